#pragma once
// A root directory prepared for running the recipe's commands: /proc, /sys, a minimal /dev
// (null, zero, full, random, urandom, tty, pts, shm, plus any block devices and
// /dev/disk/by-uuid links the image needs), /run and /tmp as tmpfs, and a policy-rc.d that
// stops services from starting. All mounts are made inside the private mount namespace
// (image/namespace.h) and undone by the destructor; the image's own resolv.conf and
// policy-rc.d are restored exactly as they were.
#include "steps/context.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ccbake::image {

class ChrootTarget : public steps::Target {
  public:
    // Enters the private mount namespace if needed and mounts the API file systems.
    explicit ChrootTarget(std::filesystem::path root);
    ~ChrootTarget() override;
    ChrootTarget(const ChrootTarget&) = delete;
    ChrootTarget& operator=(const ChrootTarget&) = delete;

    std::filesystem::path root() const override { return root_; }
    util::RunResult run(const std::vector<std::string>& argv,
                        const util::RunOptions& options) override;
    void set_network(bool on) override;

    // Makes a host block device visible in the chroot as /dev/NAME.
    void add_device(const std::filesystem::path& host_node, const std::string& name);
    // Adds /dev/disk/by-uuid/UUID -> ../../NAME.
    void add_uuid_link(const std::string& uuid, const std::string& device_name);
    // Adds /dev/LINK -> TARGET (relative to /dev).
    void add_dev_symlink(const std::string& link, const std::string& target);
    // Unmounts and restores everything now (the destructor does the same, ignoring errors).
    void release();

  private:
    void mount_or_throw(const std::string& source, const std::filesystem::path& target,
                        const char* type, unsigned long flags, const char* data = nullptr);
    void stash(const std::filesystem::path& inside); // remember a file so release() restores it
    void restore_stashed();

    std::filesystem::path root_;
    std::vector<std::filesystem::path> mounts_; // in mount order; unmounted in reverse
    struct Stashed {
        std::filesystem::path path;
        std::optional<std::filesystem::path> backup; // empty: the file did not exist
    };
    std::vector<Stashed> stashed_;
    bool network_ = false;
    bool released_ = false;
};

} // namespace ccbake::image

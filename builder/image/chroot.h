#pragma once
// A root directory prepared for running the recipe's commands: /proc, /sys, a minimal /dev
// (null, zero, full, random, urandom, tty, pts, shm, plus any block devices and
// /dev/disk/by-uuid links the image needs), /run and /tmp as tmpfs, and a policy-rc.d that
// stops services from starting. All mounts are made inside the private mount namespace
// (image/namespace.h) and undone by the destructor; the image's own resolv.conf and
// policy-rc.d are restored exactly as they were. Every path is resolved inside the root
// (target/in_root.h): a symlink in the image never steers a write or a mount onto the host.
#include "target/target.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ccbake::image {

class ChrootTarget : public target::Target {
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
    // Adds /dev/disk/KIND/ID -> ../../NAME (KIND: by-uuid, by-partuuid, by-label); an empty ID
    // or one with a slash is skipped.
    void add_disk_link(const std::string& kind, const std::string& id,
                       const std::string& device_name);
    // What recover_from_crash() put back (paths in the image), for the report.
    const std::vector<std::string>& recovered() const { return recovered_; }
    // Adds /dev/LINK -> TARGET (relative to /dev).
    void add_dev_symlink(const std::string& link, const std::string& target);
    // Binds `host_dir` (created when missing) over the image's /var/cache/apt/archives until
    // release(): the .debs apt downloads are kept there across bakes and never left in the
    // image. apt checks each file against the image's own lists before it uses one.
    void share_package_cache(const std::filesystem::path& host_dir);
    // Variables every command run in the root gets on top of the clean environment (the bake's
    // reproducibility settings: bake/content.h); a step's own variables win.
    void set_environment(std::map<std::string, std::string> env) { env_ = std::move(env); }
    // Unmounts and restores everything now (the destructor does the same, ignoring errors).
    void release();

  private:
    void recover_from_crash();
    std::string resolv_target() const;
    void mount_in(const std::string& source, const std::string& inside, const char* type,
                  unsigned long flags, const char* data = nullptr);
    void bind_file_in(const std::string& host_file, const std::string& inside);
    void stash(const std::string& inside); // remember a file so release() restores it
    void restore_stashed();

    std::filesystem::path root_;
    std::vector<std::filesystem::path> mounts_; // in mount order; unmounted in reverse
    struct Stashed {
        std::string inside;
        bool backed_up = false; // false: the file did not exist
    };
    std::vector<Stashed> stashed_;
    std::vector<std::string> recovered_;
    std::filesystem::path resolv_mount_;
    std::string resolv_placeholder_;
    std::map<std::string, std::string> env_;
    bool network_ = false;
    bool released_ = false;
};

} // namespace ccbake::image

#pragma once
// `ccbake measure` and the measurements a bake writes into its manifest: reads an image's boot
// chain (the GPT, shim and grub from the ESP, the default entry's kernel from the root), asks
// measure/predict.h what a genuine boot measures into RTMR1 and RTMR2, and prints the events
// and the registers; with --against, compares a real event log (a TD's CCEL or a TPM's
// binary_bios_measurements) with the prediction and names the first event that differs.
// Exit codes: 0 (with --against: both registers match), 1 a mismatch, 3 an image or log that
// cannot be read.
#include "image/probe.h"
#include "measure/predict.h"

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace ccbake::bake {

struct MeasureOptions {
    std::filesystem::path image;
    std::string firmware; // "" = tdvf, or what the --against log shows
    std::optional<bool> secure_boot;
    std::filesystem::path against;
    bool json = false;
};

int measure_command(const MeasureOptions& options);

// The boot chain of a root whose ESP is the folder `esp` (files found case-insensitively, as
// FAT names them); `read_disk(offset, size)` reads the raw disk for its GPT.
measure::BootChain
read_boot_chain(const std::filesystem::path& root, const std::filesystem::path& esp,
                const std::function<std::string(std::uint64_t, std::size_t)>& read_disk,
                const image::DiskLayout& layout);

nlohmann::json prediction_json(const measure::Prediction& p);
// What the manifest records of a baked disk: the predictions for a TD (tdvf), Secure Boot off
// and on, or {"predicted": false, "why": ...} when its boot chain cannot be measured.
nlohmann::json manifest_measurements(const std::filesystem::path& root,
                                     const std::filesystem::path& esp, int disk_fd,
                                     const image::DiskLayout& layout);

} // namespace ccbake::bake

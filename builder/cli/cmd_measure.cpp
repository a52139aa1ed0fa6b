// ccbake measure IMAGE [--firmware F] [--secure-boot on|off] [--against EVENTLOG]: what a
// genuine boot of the image measures into RTMR1 and RTMR2 (docs/measure.md)
#include "bake/measure_image.h"
#include "cli/app.h"
#include "util/error.h"

namespace ccbake::cli {

namespace {

void register_measure(CLI::App& app, Globals& g) {
    auto* cmd = app.add_subcommand(
        "measure", "Predict the RTMR1 and RTMR2 a boot of an image measures, or compare a real "
                   "event log with the prediction");
    static bake::MeasureOptions o;
    static std::string secure_boot;
    cmd->add_option("IMAGE", o.image, "Baked image, raw or qcow2 (opened read-only)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--firmware", o.firmware,
                    "tdvf (TDVF from edk2-stable202411 on; the default), tdvf-early (older "
                    "TDVF: no separator in RTMR1) or ovmf-tpm (OVMF with a TPM: PCRs 2-6 and "
                    "8-15 as RTMR1 and RTMR2; the default for --against a TPM's log)")
        ->type_name("NAME")
        ->check(CLI::IsMember({"tdvf", "tdvf-early", "ovmf-tpm"}));
    cmd->add_option("--secure-boot", secure_boot,
                    "on: shim also measures the kernel into RTMR1 (default off; with --against, "
                    "read from the log)")
        ->type_name("on|off")
        ->check(CLI::IsMember({"on", "off"}));
    cmd->add_option("--against", o.against,
                    "A real event log: a TD's CCEL (/sys/firmware/acpi/tables/data/CCEL) or a "
                    "TPM's binary_bios_measurements; prints the first event that differs")
        ->type_name("EVENTLOG")
        ->check(CLI::ExistingFile);
    cmd->callback([&g] {
        if (!secure_boot.empty()) o.secure_boot = secure_boot == "on";
        o.json = g.json;
        g.exit_code = bake::measure_command(o);
    });
}

} // namespace

static const CommandRegistrar registered(47, register_measure);

} // namespace ccbake::cli

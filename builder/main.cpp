// ccbake: parse the command line, run one command, turn errors into messages for people
// and the exit codes of the CLI contract.
#include "cli/app.h"
#include "util/error.h"

#include <fmt/format.h>
#include <iostream>

int main(int argc, char** argv) {
    CLI::App app{"ccbake", "ccbake"};
    ccbake::cli::Globals globals;
    ccbake::cli::build_app(app, globals);
    try {
        app.parse(argc, argv);
        return globals.exit_code;
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return ccbake::kExitUsage;
    } catch (const ccbake::Error& e) {
        std::cerr << fmt::format("ccbake: error: {}\n", e.what());
        for (const auto& line : e.context())
            std::cerr << "  " << line << "\n";
        if (!e.hint().empty()) std::cerr << fmt::format("  hint: {}\n", e.hint());
        return e.exit_code();
    } catch (const std::exception& e) {
        std::cerr << fmt::format("ccbake: internal error: {}\n", e.what())
                  << "  this is a bug in ccbake; please report it with the command line you ran\n";
        return ccbake::kExitFailed;
    }
}

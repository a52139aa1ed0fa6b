#pragma once
// Runs every check, in report order, against a System as the Config asks, then applies the
// config's required list. Nothing here waits without a bound: the persistenced wait uses the
// configured timeout and every tool runs under a timeout.
#include "check/config.h"
#include "check/report.h"
#include "check/system.h"

#include <functional>
#include <string>

namespace ccbake::check {

using Progress = std::function<void(const std::string&)>;

Report run_checks(
    System& sys, const Config& cfg, const Progress& progress = [](const std::string&) {});

} // namespace ccbake::check

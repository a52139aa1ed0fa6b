#pragma once
// Reads a recorded tool output from tests/fixtures/check/ (for the test_check_* files).
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

inline std::string check_fixture(const std::string& name) {
    std::string path = std::string(CCBAKE_SOURCE_DIR) + "/tests/fixtures/check/" + name;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("missing fixture " + path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

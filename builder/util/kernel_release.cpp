#include "util/kernel_release.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace ccbake::util {

namespace {

// The leading numbers of a release, joined by '.' or '-': "6.8.0-45-generic" -> {6, 8, 0, 45};
// the flavour after them ("generic", "amd64") is not a number of the version.
std::vector<long> release_numbers(const std::string& release) {
    std::vector<long> out;
    size_t i = 0;
    while (i < release.size() && std::isdigit(static_cast<unsigned char>(release[i]))) {
        long n = 0;
        while (i < release.size() && std::isdigit(static_cast<unsigned char>(release[i])))
            n = std::min(n * 10 + (release[i++] - '0'), 1'000'000'000L);
        out.push_back(n);
        if (i + 1 < release.size() && (release[i] == '.' || release[i] == '-') &&
            std::isdigit(static_cast<unsigned char>(release[i + 1])))
            ++i;
        else
            break;
    }
    return out;
}

} // namespace

int compare_kernel_releases(const std::string& a, const std::string& b) {
    auto x = release_numbers(a), y = release_numbers(b);
    size_t n = std::max(x.size(), y.size());
    x.resize(n, 0);
    y.resize(n, 0);
    if (x != y) return x < y ? -1 : 1;
    return 0;
}

bool is_kernel_release(const std::string& release) {
    return !release_numbers(release).empty();
}

} // namespace ccbake::util

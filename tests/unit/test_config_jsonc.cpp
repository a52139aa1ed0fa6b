#include "config/jsonc.h"
#include "test_steps_config_fixture.h"

#include <doctest/doctest.h>
#include <fstream>

using ccbake::config::JsoncDocument;
using ccbake::config::replace_url_host;
using nlohmann::json;

namespace {
std::string qcnl_fixture() {
    std::ifstream in(std::string(CCBAKE_SOURCE_DIR) + "/tests/fixtures/qcnl/sgx_default_qcnl.conf",
                     std::ios::binary);
    REQUIRE(in);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}
size_t count(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1))
        ++n;
    return n;
}
} // namespace

TEST_CASE("jsonc: Intel's qcnl file parses, comments and leading commas included") {
    JsoncDocument doc(qcnl_fixture(), "sgx_default_qcnl.conf");
    CHECK(doc.value()["pccs_url"] == "https://localhost:8081/sgx/certification/v4/");
    CHECK(doc.value()["use_secure_cert"] == false);
    CHECK(doc.value()["retry_times"] == 6);
    CHECK(doc.value()["custom_request_options"]["get_cert"]["params"]["param2"] == "value2");
    CHECK_FALSE(doc.value().contains("collateral_service")); // commented out
}

TEST_CASE("jsonc: the vendor's two edits change only those bytes") {
    const std::string original = qcnl_fixture();
    JsoncDocument doc(original, "qcnl");
    CHECK(doc.set(json::json_pointer("/use_secure_cert"), true));
    std::string url = replace_url_host(doc.value()["pccs_url"], "pccs.baidubce.com:8081");
    CHECK(url == "https://pccs.baidubce.com:8081/sgx/certification/v4/");
    CHECK(doc.set(json::json_pointer("/pccs_url"), url));
    std::string expected = original;
    expected.replace(expected.find("\"https://localhost:8081/sgx/certification/v4/\""),
                     std::string("\"https://localhost:8081/sgx/certification/v4/\"").size(),
                     "\"https://pccs.baidubce.com:8081/sgx/certification/v4/\"");
    expected.replace(expected.find(",\"use_secure_cert\": false"),
                     std::string(",\"use_secure_cert\": false").size(),
                     ",\"use_secure_cert\": true");
    CHECK(doc.text() == expected);
    CHECK(count(doc.text(), "//") == count(original, "//"));
    // Equal values: no change, same bytes.
    CHECK_FALSE(doc.set(json::json_pointer("/use_secure_cert"), true));
    CHECK_FALSE(doc.set(json::json_pointer("/pccs_url"), url));
    CHECK(doc.text() == expected);
}

TEST_CASE("jsonc: a new key follows the file's comma style") {
    JsoncDocument lead("{\n  // c\n  \"a\": 1\n  ,\"b\": 2\n}\n", "f");
    CHECK(lead.set(json::json_pointer("/c"), "x"));
    CHECK(lead.text() == "{\n  // c\n  \"a\": 1\n  ,\"b\": 2\n  ,\"c\": \"x\"\n}\n");
    JsoncDocument trail("{\n    \"a\": 1,\n    \"b\": 2\n}", "f");
    CHECK(trail.set(json::json_pointer("/c"), 3));
    CHECK(trail.text() == "{\n    \"a\": 1,\n    \"b\": 2,\n    \"c\": 3\n}");
    JsoncDocument empty("{}", "f");
    CHECK(empty.set(json::json_pointer("/k"), json::array({1})));
    CHECK(empty.value()["k"] == json::array({1}));
    JsoncDocument nested("{\"o\": {\"p\": 1 /* keep */}}", "f");
    CHECK(nested.set(json::json_pointer("/o/p"), 2));
    CHECK(nested.text() == "{\"o\": {\"p\": 2 /* keep */}}");
    CHECK_THROWS_WITH(nested.set(json::json_pointer("/missing/x"), 1),
                      doctest::Contains("not an object"));
}

TEST_CASE("jsonc: trailing commas and block comments are accepted") {
    JsoncDocument d("/* head */ {\"a\": [1, 2,], \"b\": {\"c\": null,},}", "f");
    CHECK(d.value()["a"] == json::array({1, 2}));
    CHECK(d.value()["b"]["c"].is_null());
}

TEST_CASE("jsonc: broken input names line and column") {
    CHECK_THROWS_WITH(JsoncDocument("{\n  \"a\": 1\n  \"b\": 2\n}", "qcnl.conf"),
                      doctest::Contains("qcnl.conf:3:3: expected ',' or '}'"));
    CHECK_THROWS_WITH(JsoncDocument("{\"a\": tru}", "f"),
                      doctest::Contains("f:1:7: 'tru' is not a JSON value"));
    CHECK_THROWS_WITH(JsoncDocument("{\"a\": 1 /* open", "f"),
                      doctest::Contains("comment not closed"));
    CHECK_THROWS_WITH(JsoncDocument("{\"a\": \"x}", "f"),
                      doctest::Contains("f:1:7: string not closed"));
    CHECK_THROWS_WITH(JsoncDocument("{\"a\": 1, \"a\": 2}", "f"),
                      doctest::Contains("duplicate key \"a\""));
    CHECK_THROWS_WITH(JsoncDocument("", "f"), doctest::Contains("unexpected end of file"));
    CHECK_THROWS_WITH(JsoncDocument("{} x", "f"), doctest::Contains("unexpected text after"));
}

TEST_CASE("replace_url_host keeps scheme, user info, path; HOST alone keeps the port") {
    CHECK(
        replace_url_host("https://localhost:8081/sgx/certification/v4/", "pccs.example.com:9443") ==
        "https://pccs.example.com:9443/sgx/certification/v4/");
    CHECK(replace_url_host("https://localhost:8081/sgx/certification/v4/", "pccs.example.com") ==
          "https://pccs.example.com:8081/sgx/certification/v4/");
    CHECK(replace_url_host("http://u:p@old/x?y", "new:1") == "http://u:p@new:1/x?y");
    CHECK_THROWS_WITH(replace_url_host("localhost:8081/sgx", "a:1"),
                      doctest::Contains("not a URL"));
}

TEST_CASE("json_edit step: two changes out, then none; a broken file is refused and untouched") {
    ccbake::testing::StepHarness h;
    h.root.write("/etc/sgx_default_qcnl.conf", qcnl_fixture());
    json spec = {{"path", "/etc/sgx_default_qcnl.conf"},
                 {"set", {{"use_secure_cert", true}}},
                 {"replace_host", {{"pccs_url", "pccs.baidubce.com:8081"}}}};
    auto r = h.apply("json_edit", spec);
    CHECK(r.changes.size() == 2);
    JsoncDocument after(h.root.read("/etc/sgx_default_qcnl.conf"), "after");
    CHECK(after.value()["pccs_url"] == "https://pccs.baidubce.com:8081/sgx/certification/v4/");
    CHECK(after.value()["use_secure_cert"] == true);
    CHECK(h.root.read("/etc/sgx_default_qcnl.conf").find("//PCCS server address") !=
          std::string::npos);
    CHECK(h.apply("json_edit", spec).changes.empty());

    const std::string broken =
        "{\n  \"pccs_url\": \"https://localhost:8081/x\"\n  \"use_secure_cert\": false\n}\n";
    h.root.write("/etc/sgx_default_qcnl.conf", broken);
    CHECK_THROWS_WITH(h.apply("json_edit", spec),
                      doctest::Contains("/etc/sgx_default_qcnl.conf:3:3"));
    CHECK(h.root.read("/etc/sgx_default_qcnl.conf") == broken);
}

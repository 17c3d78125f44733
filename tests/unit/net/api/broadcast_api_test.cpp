// POST /_broadcast's body (SPEC §11, AnyCable's HTTP broadcaster format): one object or an array,
// each data checked as JSON and written compactly; any malformed item refuses the whole request.
#define CAF_SUITE broadcast_api
#include "test_dsl.hpp"

#include "net/api/broadcast_api.hpp"

using namespace actorcable;
using namespace actorcable::net;

CAF_TEST(one object or an array of them) {
  auto one = parse_broadcasts(R"({"stream":"Chat:abc","data":"{ \"a\" : [1, 2] }","meta":{"exclude_socket":"x"}})");
  CAF_REQUIRE(std::holds_alternative<broadcasts>(one));
  auto& b = std::get<broadcasts>(one);
  CAF_CHECK(b.streams == std::vector<std::string>{"Chat:abc"});
  CAF_CHECK(b.messages == std::vector<std::string>{R"({"a":[1,2]})"});
  auto many = parse_broadcasts(R"([{"stream":"A","data":"1"},{"stream":"B","data":"\"x\""}])");
  CAF_REQUIRE(std::holds_alternative<broadcasts>(many));
  CAF_CHECK(std::get<broadcasts>(many).messages == (std::vector<std::string>{"1", R"("x")"}));
  auto none = parse_broadcasts("[]");
  CAF_REQUIRE(std::holds_alternative<broadcasts>(none));
  CAF_CHECK(std::get<broadcasts>(none).streams.empty());
}

CAF_TEST(malformed bodies are refused whole with a reason) {
  auto status = [](std::string_view body) {
    auto r = parse_broadcasts(body);
    return std::holds_alternative<http_reply>(r) ? std::get<http_reply>(r).status : 0u;
  };
  CAF_CHECK_EQUAL(status("{\"stream\":"), 400u);
  CAF_CHECK_EQUAL(status(""), 400u);
  CAF_CHECK_EQUAL(status(R"({"stream":"A"})"), 422u);
  CAF_CHECK_EQUAL(status(R"({"stream":"","data":"1"})"), 422u);
  CAF_CHECK_EQUAL(status(R"({"stream":7,"data":"1"})"), 422u);
  CAF_CHECK_EQUAL(status(R"({"stream":"A","data":{"x":1}})"), 422u);
  CAF_CHECK_EQUAL(status(R"({"stream":"A","data":"{not json"})"), 422u);
  CAF_CHECK_EQUAL(status(R"([{"stream":"A","data":"1"},"x"])"), 422u);
  CAF_CHECK_EQUAL(status("\"just a string\""), 422u);
  CAF_CHECK_EQUAL(status(R"({"stream":")" + std::string(300, 'x') + R"(","data":"1"})"), 422u);
  auto r = parse_broadcasts(R"([{"stream":"A","data":"1"},{"stream":"B"}])");
  CAF_REQUIRE(std::holds_alternative<http_reply>(r));
  CAF_CHECK_NOT_EQUAL(std::get<http_reply>(r).body.find("broadcast 1"), std::string::npos);
}

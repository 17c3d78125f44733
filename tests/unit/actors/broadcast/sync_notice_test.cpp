// The database's sync signals read as broadcasts to the seed's sync identifiers (SPEC §11).
#define CAF_SUITE sync_notice
#include "test_dsl.hpp"

#include "actors/broadcast/sync_notice.hpp"
#include "model/obfuscated_id.hpp"

#include <boost/json.hpp>

using namespace actorcable;
using namespace actorcable::actors;
using model::model_kind;

namespace {

boost::json::value parsed(const std::string& text) { return boost::json::parse(text); }

boost::json::value refresh(std::string prop, model_kind kind, std::int64_t id) {
  return boost::json::object{{"action", "refresh"}, {"prop", prop},
                             {"id", model::encode_id(kind, id)}};
}

}  // namespace

CAF_TEST(a chat listed or unlisted refreshes its account chat list) {
  auto b = sync_broadcasts(R"({"kind":"chats","account_id":3})");
  CAF_REQUIRE(b);
  CAF_CHECK(b->streams == std::vector<std::string>{model::stream_name(model_kind::account, 3, ":chats")});
  CAF_CHECK(parsed(b->messages.at(0)) == refresh("chats", model_kind::account, 3));
}

CAF_TEST(a changed chat refreshes the chat and its account chat list) {
  auto b = sync_broadcasts(R"({"kind":"chat","chat_id":7,"account_id":3})");
  CAF_REQUIRE(b);
  CAF_REQUIRE_EQUAL(b->streams.size(), 2u);
  CAF_CHECK_EQUAL(b->streams[0], model::stream_name(model_kind::chat, 7));
  CAF_CHECK(parsed(b->messages[0]) == refresh("chat", model_kind::chat, 7));
  CAF_CHECK_EQUAL(b->streams[1], model::stream_name(model_kind::account, 3, ":chats"));
}

CAF_TEST(an answer end reaches its chat as streaming_end) {
  auto b = sync_broadcasts(R"({"kind":"ended","message_id":42,"chat_id":7,"status":"cancelled"})");
  CAF_REQUIRE(b);
  CAF_CHECK(b->streams == std::vector<std::string>{model::stream_name(model_kind::chat, 7)});
  CAF_CHECK(parsed(b->messages.at(0))
            == boost::json::value(boost::json::object{{"action", "streaming_end"}, {"chunk", nullptr},
                                       {"id", model::encode_id(model_kind::message, 42)},
                                       {"status", "cancelled"}}));
}

CAF_TEST(a message changed outside a stream is refreshed) {
  auto b = sync_broadcasts(R"({"kind":"message","message_id":42})");
  CAF_REQUIRE(b);
  CAF_CHECK(b->streams == std::vector<std::string>{model::stream_name(model_kind::message, 42)});
  CAF_CHECK(parsed(b->messages.at(0)) == refresh("message", model_kind::message, 42));
}

CAF_TEST(anything else is not a sync signal) {
  for (auto bad : {"", "not json", "[]", R"({"kind":"chats"})", R"({"kind":"chat","chat_id":7})",
                   R"({"kind":"ended","message_id":42,"chat_id":7})", R"({"kind":"message","message_id":"42"})",
                   R"({"kind":"membership","account_id":1,"user_id":2})", R"({"kind":"chats","account_id":-1})"})
    CAF_CHECK(!sync_broadcasts(bad));
}

// The ActionCable wire protocol (SPEC §5): commands parsed, identifiers echoed byte for byte,
// SyncChannel targets read, server frames written as clients expect them.
#define CAF_SUITE cable_protocol
#include "test_dsl.hpp"

#include "model/obfuscated_id.hpp"
#include "net/cable/cable_protocol.hpp"

#include <boost/json.hpp>

using namespace actorcable;
using namespace actorcable::net;

CAF_TEST(commands are parsed and the identifier kept exactly as sent) {
  auto ident = R"({ "id":"AbCdEf",  "model":"Message","channel":"SyncChannel" })";
  auto frame = boost::json::serialize(boost::json::object{{"command", "subscribe"}, {"identifier", ident}});
  auto r = parse_command(frame);
  CAF_REQUIRE(r.command);
  CAF_CHECK(r.command->type == command_type::subscribe);
  CAF_CHECK_EQUAL(r.command->identifier, ident);
  CAF_CHECK(!r.command->history);
  auto unknown = parse_command(R"({"command":"x","identifier":"{}"})");
  CAF_REQUIRE(unknown.command);
  CAF_CHECK(unknown.command->type == command_type::unknown);
  CAF_CHECK_EQUAL(unknown.command->name, "x");
}

CAF_TEST(frames that are not commands are refused with a reason) {
  for (auto bad : {"", "not json", "[]", "42", R"({"identifier":"x"})", R"({"command":7})",
                   R"({"command":"subscribe","identifier":{}})",
                   R"({"command":"history","identifier":"{}"})"}) {
    auto r = parse_command(bad);
    CAF_CHECK(!r.command);
    CAF_CHECK(!r.error.empty());
  }
}

CAF_TEST(history positions are read per stream) {
  auto r = parse_command(
    R"({"command":"history","identifier":"{}","history":{"since":1700000000,"streams":{"Message:AbCdEf":{"offset":3,"epoch":"e1"}}}})");
  CAF_REQUIRE(r.command && r.command->history);
  auto& h = *r.command->history;
  CAF_CHECK_EQUAL(h.since, std::optional<std::int64_t>(1700000000));
  CAF_REQUIRE_EQUAL(h.streams.count("Message:AbCdEf"), 1u);
  CAF_CHECK_EQUAL(h.streams.at("Message:AbCdEf").offset, 3);
  CAF_CHECK_EQUAL(h.streams.at("Message:AbCdEf").epoch, "e1");
}

CAF_TEST(sync channel identifiers name a message or a chat and nothing else) {
  auto oid = model::encode_id(model::model_kind::message, 42);
  auto chat = model::encode_id(model::model_kind::chat, 7);
  auto m = parse_identifier(R"({"channel":"SyncChannel","model":"Message","id":")" + oid + "\"}");
  CAF_REQUIRE(m);
  CAF_CHECK(m->kind == model::model_kind::message);
  CAF_CHECK_EQUAL(m->id, 42);
  auto c = parse_identifier(R"({"model":"Chat","channel":"SyncChannel","id":")" + chat + ":messages\"}");
  CAF_REQUIRE(c);
  CAF_CHECK(c->kind == model::model_kind::chat);
  CAF_CHECK(c->chat_messages);
  CAF_CHECK_EQUAL(c->id, 7);
  auto account = model::encode_id(model::model_kind::account, 9);
  auto a = parse_identifier(R"({"channel":"SyncChannel","model":"Account","id":")" + account + ":chats\"}");
  CAF_REQUIRE(a);
  CAF_CHECK(a->kind == model::model_kind::account);
  CAF_CHECK_EQUAL(a->id, 9);
  CAF_CHECK(!parse_identifier(R"({"channel":"SyncChannel","model":"Account","id":")" + account + "\"}"));
  CAF_CHECK(!parse_identifier(R"({"channel":"SyncChannel","model":"Account","id":")" + account + ":messages\"}"));
  for (auto bad : {R"({"channel":"SyncChannel","model":"User","id":"AbCdEf"})",
                   R"({"channel":"OtherChannel","model":"Message","id":"AbCdEf"})",
                   R"({"channel":"SyncChannel","model":"Message","id":"1; DROP TABLE"})",
                   R"({"channel":"SyncChannel","model":"Message"})", "not json"})
    CAF_CHECK(!parse_identifier(bad));
}

CAF_TEST(each identifier has the stream name an application broadcasts to) {
  auto name = [](std::string model, std::string id) {
    return parse_identifier(R"({"channel":"SyncChannel","model":")" + model + R"(","id":")" + id + "\"}")
      ->stream_name();
  };
  auto m = model::encode_id(model::model_kind::message, 42);
  auto c = model::encode_id(model::model_kind::chat, 7);
  auto a = model::encode_id(model::model_kind::account, 9);
  CAF_CHECK_EQUAL(name("Message", m), "Message:" + m);
  CAF_CHECK_EQUAL(name("Chat", c), "Chat:" + c);
  CAF_CHECK_EQUAL(name("Chat", c + ":messages"), "Chat:" + c + ":messages");
  CAF_CHECK_EQUAL(name("Account", a + ":chats"), "Account:" + a + ":chats");
}

CAF_TEST(server frames have the shapes clients expect) {
  CAF_CHECK_EQUAL(boost::json::parse(disconnect_frame("too_slow", true)),
                  boost::json::parse(R"({"type":"disconnect","reason":"too_slow","reconnect":true})"));
  auto ident = R"({"channel":"SyncChannel","model":"Message","id":"AbCdEf"})";
  auto confirm = boost::json::parse(confirm_frame(ident)).as_object();
  CAF_CHECK_EQUAL(confirm.at("type").as_string(), "confirm_subscription");
  CAF_CHECK_EQUAL(confirm.at("identifier").as_string(), ident);
  auto b = boost::json::parse(broadcast_frame(ident, R"({"action":"x"})", R"(,"offset":3)")).as_object();
  CAF_CHECK_EQUAL(b.at("identifier").as_string(), ident);
  CAF_CHECK_EQUAL(b.at("message").as_object().at("action").as_string(), "x");
  CAF_CHECK_EQUAL(b.at("offset").as_int64(), 3);
  auto restored = boost::json::parse(restored_welcome_frame("sid1", {ident})).as_object();
  CAF_CHECK_EQUAL(restored.at("restored").as_bool(), true);
  CAF_CHECK_EQUAL(restored.at("restored_ids").as_array().size(), 1u);
}

CAF_TEST(perform data names its action) {
  CAF_CHECK_EQUAL(perform_action(R"({"action":"stop"})"), "stop");
  CAF_CHECK_EQUAL(perform_action(R"({"action":"stop","extra":1})"), "stop");
  CAF_CHECK_EQUAL(perform_action(R"({"action":7})"), "");
  CAF_CHECK_EQUAL(perform_action(R"(["stop"])"), "");
  CAF_CHECK_EQUAL(perform_action("not json"), "");
  CAF_CHECK_EQUAL(perform_action(""), "");
}

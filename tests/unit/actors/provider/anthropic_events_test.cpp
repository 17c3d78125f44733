// Anthropic's Messages stream (SPEC §10) parsed event by event, as the SSE parser hands it over:
// text and thinking deltas, usage from message_start and message_delta, errors, and what is
// ignored or refused.
#define CAF_SUITE anthropic_events
#include "test_dsl.hpp"

#include "actors/provider/anthropic_events.hpp"
#include "actors/provider/sse_parser.hpp"

#include <boost/json.hpp>

using namespace actorcable::actors;
using kind = anthropic_event::kind;

namespace {

// The shape of the documented stream with extended thinking, one `event:` line per event.
const std::string stream =
  "event: message_start\n"
  "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
  "\"content\":[],\"model\":\"claude-test-1\",\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n"
  "event: content_block_start\n"
  "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n"
  "event: ping\n"
  "data: {\"type\": \"ping\"}\n\n"
  "event: content_block_delta\n"
  "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Let me see.\"}}\n\n"
  "event: content_block_delta\n"
  "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQB\"}}\n\n"
  "event: content_block_stop\n"
  "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
  "event: content_block_start\n"
  "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
  "event: content_block_delta\n"
  "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n"
  "event: content_block_delta\n"
  "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\" w\\u00f6rld \\ud83c\\udf89\"}}\n\n"
  "event: content_block_stop\n"
  "data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
  "event: message_delta\n"
  "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n"
  "event: message_stop\n"
  "data: {\"type\":\"message_stop\"}\n\n";

std::vector<anthropic_event> parse_all(const std::string& bytes) {
  sse_parser p;
  std::vector<anthropic_event> out;
  for (auto& data : p.feed(bytes))
    out.push_back(parse_anthropic_event(data));
  return out;
}

}  // namespace

CAF_TEST(a stream with thinking gives reasoning then text then usage and the stop) {
  auto events = parse_all(stream);
  CAF_REQUIRE_EQUAL(events.size(), 12u);
  CAF_CHECK(events[0].type == kind::usage);
  CAF_CHECK_EQUAL(events[0].model, "claude-test-1");
  CAF_CHECK_EQUAL(events[0].input_tokens, 25);
  std::string thinking, text;
  for (auto& ev : events) {
    if (ev.type == kind::thinking)
      thinking += ev.text;
    if (ev.type == kind::text)
      text += ev.text;
  }
  CAF_CHECK_EQUAL(thinking, "Let me see.");
  CAF_CHECK_EQUAL(text, "Hello w\xc3\xb6rld \xf0\x9f\x8e\x89");
  CAF_CHECK(events[4].type == kind::ignored);  // the signature of the thinking block
  CAF_CHECK(events[10].type == kind::usage);
  CAF_CHECK_EQUAL(events[10].output_tokens, 15);
  CAF_CHECK_EQUAL(events[10].stop_reason, "end_turn");
  CAF_CHECK(events[11].type == kind::stop);
  std::size_t ignored = 0;
  for (auto& ev : events)
    ignored += ev.type == kind::ignored;
  CAF_CHECK_EQUAL(ignored, 6u);  // two block starts, ping, signature, two block stops
}

CAF_TEST(an error event carries its type and message) {
  auto ev = parse_anthropic_event(
    R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  CAF_CHECK(ev.type == kind::error);
  CAF_CHECK_EQUAL(ev.error, "overloaded_error: Overloaded");
  CAF_CHECK_EQUAL(parse_anthropic_event(R"({"type":"error"})").error, "provider reported an error");
}

CAF_TEST(what the API does not send is malformed and unknown event types are ignored) {
  for (auto bad : {"not json", "[1,2]", "{}", R"({"type":"content_block_delta"})",
                   R"({"type":"message_start","message":3})"})
    CAF_CHECK(parse_anthropic_event(bad).type == kind::malformed);
  CAF_CHECK(parse_anthropic_event(R"({"type":"future_event","x":1})").type == kind::ignored);
  // Wrong types inside a known event are read as absent, not trusted.
  auto ev = parse_anthropic_event(R"({"type":"message_delta","usage":{"output_tokens":"many"}})");
  CAF_CHECK(ev.type == kind::usage);
  CAF_CHECK(!ev.output_tokens);
}

CAF_TEST(the request puts system turns in system and starts with the user) {
  std::vector<actorcable::model::chat_turn> turns = {
    {"system", "Be brief."}, {"assistant", "Welcome!"}, {"user", "Hi"}, {"assistant", "Hello"},
    {"user", "And \"quotes\"?"}, {"assistant", "Partial ans"}};
  auto body = boost::json::parse(anthropic_request_body("claude-test-1", 1024, turns)).as_object();
  CAF_CHECK_EQUAL(body.at("model").as_string(), "claude-test-1");
  CAF_CHECK_EQUAL(body.at("max_tokens").as_int64(), 1024);
  CAF_CHECK(body.at("stream").as_bool());
  CAF_CHECK_EQUAL(body.at("system").as_string(), "Be brief.");
  auto& messages = body.at("messages").as_array();
  CAF_REQUIRE_EQUAL(messages.size(), 4u);
  CAF_CHECK_EQUAL(messages[0].at("role").as_string(), "user");
  CAF_CHECK_EQUAL(messages[0].at("content").as_string(), "Hi");
  CAF_CHECK_EQUAL(messages[2].at("content").as_string(), "And \"quotes\"?");
  CAF_CHECK_EQUAL(messages[3].at("role").as_string(), "assistant");  // the prefill continued
  CAF_CHECK(!boost::json::parse(anthropic_request_body("m", 1, {{"user", "x"}})).as_object().contains("system"));
}

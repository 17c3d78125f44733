// The SSE parser fed whole, one byte at a time, and with every line ending.
#define CAF_SUITE sse_parser
#include "test_dsl.hpp"

#include "actors/provider/openai_events.hpp"
#include "actors/provider/openai_session.hpp"
#include "actors/provider/sse_parser.hpp"

using namespace actorcable::actors;

namespace {

const std::string stream =
  ": keep-alive comment\r\n"
  "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n\r\n"
  "event: message\n"
  "data: {\"choices\":[{\"delta\":{\"content\":\"lo \\u00e9\\ud83c\\udf89\"}}]}\n\n"
  "data: first line\rdata: second line\r\r"
  "id: 7\n"
  "data:{\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2},\"model\":\"m\"}\n\n"
  "data: [DONE]\n\n"
  "data: unfinished";

const std::vector<std::string> expected = {
  "{\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}",
  "{\"choices\":[{\"delta\":{\"content\":\"lo \\u00e9\\ud83c\\udf89\"}}]}",
  "first line\nsecond line",
  "{\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2},\"model\":\"m\"}",
  "[DONE]",
};

}  // namespace

CAF_TEST(whole stream) {
  sse_parser p;
  CAF_CHECK_EQUAL(p.feed(stream), expected);
  CAF_CHECK_GREATER(p.pending(), 0u);
}

CAF_TEST(one byte at a time gives the same events) {
  sse_parser p;
  std::vector<std::string> got;
  for (char c : stream)
    for (auto& e : p.feed(std::string_view(&c, 1)))
      got.push_back(e);
  CAF_CHECK_EQUAL(got, expected);
}

CAF_TEST(every split point gives the same events) {
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    sse_parser p;
    auto got = p.feed(std::string_view(stream).substr(0, cut));
    for (auto& e : p.feed(std::string_view(stream).substr(cut)))
      got.push_back(e);
    CAF_CHECK_EQUAL(got, expected);
  }
}

CAF_TEST(payloads decode to deltas usage and done) {
  auto first = parse_openai_event(expected[0]);
  CAF_CHECK(first.type == openai_event::kind::delta);
  CAF_CHECK_EQUAL(first.content, "Hel");
  auto second = parse_openai_event(expected[1]);
  CAF_CHECK_EQUAL(second.content, "lo \xC3\xA9\xF0\x9F\x8E\x89");
  auto usage = parse_openai_event(expected[3]);
  CAF_CHECK_EQUAL(usage.prompt_tokens.value_or(0), 3);
  CAF_CHECK_EQUAL(usage.completion_tokens.value_or(0), 2);
  CAF_CHECK_EQUAL(usage.model, "m");
  CAF_CHECK(parse_openai_event("[DONE]").type == openai_event::kind::done);
  CAF_CHECK(parse_openai_event("first line\nsecond line").type == openai_event::kind::malformed);
  CAF_CHECK(parse_openai_event("{\"choices\":5}").type == openai_event::kind::malformed);
  auto err = parse_openai_event("{\"error\":{\"message\":\"quota\"}}");
  CAF_CHECK(err.type == openai_event::kind::error);
  CAF_CHECK_EQUAL(err.error, "quota");
}

CAF_TEST(reasoning comes from reasoning_content or reasoning beside the content) {
  auto deepseek = parse_openai_event(R"({"choices":[{"delta":{"reasoning_content":"Hmm"}}]})");
  CAF_CHECK_EQUAL(deepseek.reasoning, "Hmm");
  CAF_CHECK_EQUAL(deepseek.content, "");
  auto openrouter = parse_openai_event(R"({"choices":[{"delta":{"reasoning":"So","content":null}}]})");
  CAF_CHECK_EQUAL(openrouter.reasoning, "So");
  auto both = parse_openai_event(R"({"choices":[{"delta":{"reasoning_content":"a","content":"b"}}]})");
  CAF_CHECK_EQUAL(both.reasoning, "a");
  CAF_CHECK_EQUAL(both.content, "b");
  auto empty = parse_openai_event(R"({"choices":[{"delta":{}}]})");
  CAF_CHECK(empty.type == openai_event::kind::delta);
  CAF_CHECK(empty.reasoning.empty() && empty.content.empty());
  // Invalid UTF-8 inside a string is kept for the message actor to repair, not a failed stream.
  auto bad = parse_openai_event("{\"choices\":[{\"delta\":{\"reasoning_content\":\"x\xFFy\"}}]}");
  CAF_CHECK(bad.type == openai_event::kind::delta);
  CAF_CHECK_EQUAL(bad.reasoning, "x\xFFy");
}

CAF_TEST(an endless line is cut off) {
  sse_parser p;
  std::string junk(sse_parser::max_bytes + 10, 'x');
  CAF_CHECK(p.feed(junk).empty());
  CAF_CHECK(p.overflowed());
  CAF_CHECK_LESS(p.pending(), sse_parser::max_bytes);
}

CAF_TEST(base urls map to the chat completions resource) {
  auto a = chat_completions_endpoint("https://api.openai.com");
  CAF_REQUIRE(a.has_value());
  CAF_CHECK(a->tls);
  CAF_CHECK_EQUAL(a->port, "443");
  CAF_CHECK_EQUAL(a->path, "/v1/chat/completions");
  auto b = chat_completions_endpoint("http://127.0.0.1:11434/v1/");
  CAF_REQUIRE(b.has_value());
  CAF_CHECK(!b->tls);
  CAF_CHECK_EQUAL(b->host, "127.0.0.1");
  CAF_CHECK_EQUAL(b->port, "11434");
  CAF_CHECK_EQUAL(b->path, "/v1/chat/completions");
  auto c = chat_completions_endpoint("https://openrouter.ai/api/v1");
  CAF_CHECK_EQUAL(c->path, "/api/v1/chat/completions");
  CAF_CHECK(!chat_completions_endpoint("ftp://x").has_value());
  CAF_CHECK(!chat_completions_endpoint("http://").has_value());
}

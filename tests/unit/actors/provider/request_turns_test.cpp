// What a provider request carries (SPEC §7, §12): the chat's turns with the question last, and for
// a continued answer its stored text as a trailing assistant message (prefill).
#define CAF_SUITE request_turns
#include "test_dsl.hpp"

#include "actors/provider/openai_provider.hpp"

using namespace actorcable::actors;
using actorcable::model::chat_turn;

namespace {

job_spec asked(std::string question) {
  job_spec spec{1, 1, question, {{"user", "earlier"}, {"assistant", "said"}, {"user", question}}};
  return spec;
}

}  // namespace

CAF_TEST(a fresh answer ends with the question) {
  std::string tail = "stale";
  auto turns = request_turns(asked("why?"), false, tail);
  CAF_REQUIRE_EQUAL(turns.size(), 3u);
  CAF_CHECK_EQUAL(turns.back().role, "user");
  CAF_CHECK_EQUAL(turns.back().content, "why?");
  CAF_CHECK_EQUAL(tail, "");
}

CAF_TEST(a continued answer has its stored text as the trailing assistant message) {
  auto spec = asked("why?");
  spec.resumed = resumed_answer{"Because actors ", "", "[]", 1};
  std::string tail;
  auto turns = request_turns(spec, false, tail);
  CAF_REQUIRE_EQUAL(turns.size(), 4u);
  CAF_CHECK_EQUAL(turns[2].content, "why?");
  CAF_CHECK_EQUAL(turns.back().role, "assistant");
  CAF_CHECK_EQUAL(turns.back().content, "Because actors ");
  CAF_CHECK_EQUAL(tail, "");
}

CAF_TEST(for anthropic the prefill loses its trailing white space which is kept to take off the continuation) {
  auto spec = asked("why?");
  spec.resumed = resumed_answer{"Because actors \n", "", "[]", 1};
  std::string tail;
  auto turns = request_turns(spec, true, tail);
  CAF_REQUIRE_EQUAL(turns.size(), 4u);
  CAF_CHECK_EQUAL(turns.back().content, "Because actors");
  CAF_CHECK_EQUAL(tail, " \n");
  spec.resumed->text = "   ";  // nothing but white space: no prefill at all
  turns = request_turns(spec, true, tail);
  CAF_CHECK_EQUAL(turns.size(), 3u);
  CAF_CHECK_EQUAL(tail, "");
}

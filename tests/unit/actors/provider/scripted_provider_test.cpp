#define CAF_SUITE scripted_provider
#include "test_dsl.hpp"

#include "actors/provider/scripted_provider.hpp"

using namespace actorcable::actors;

namespace {

struct sink_state {
  std::vector<std::string> chunks;
  int done = 0;
};

caf::behavior sink(caf::stateful_actor<sink_state>* self) {
  return {
    [=](chunk_atom, const std::string& text) { self->state.chunks.push_back(text); },
    [=](job_done_atom, const job_result&) { ++self->state.done; },
  };
}

struct fixture : test_coordinator_fixture<> {
  scripted_config cfg;
  job_sink_actor target = caf::actor_cast<job_sink_actor>(sys.spawn(sink));
  sink_state& seen() { return deref<caf::stateful_actor<sink_state>>(target).state; }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(scripted_provider_tests, fixture)

CAF_TEST(markers shape the plan) {
  auto plan = parse_scripted_plan("hi [[chunks:7]] [[rate:50]] [[delay:250]] [[fail-after:3]]", cfg);
  CAF_CHECK_EQUAL(plan.chunks, 7);
  CAF_CHECK_EQUAL(plan.rate, 50.0);
  CAF_CHECK_EQUAL(plan.delay_ms, 250);
  CAF_CHECK_EQUAL(plan.fail_after.value_or(-1), 3);
  CAF_CHECK(!plan.stall_after);
  auto plain = parse_scripted_plan("no markers, [[chunks:x]] [[rate:0]]", cfg);
  CAF_CHECK_EQUAL(plain.chunks, cfg.default_chunks);
  CAF_CHECK_EQUAL(plain.rate, cfg.default_rate);
  CAF_CHECK(parse_scripted_plan("[[stall]]", cfg).stall_after.has_value());
  CAF_CHECK(parse_scripted_plan("x [[bench]]", cfg).bench);
  auto chunk = bench_chunk(7);
  CAF_CHECK_EQUAL(chunk.size(), 40u);
  CAF_CHECK_EQUAL(chunk.substr(0, 2), "7|");
}

CAF_TEST(streams the deterministic answer then reports done) {
  auto job = sys.spawn(scripted_provider, target, parse_scripted_plan("[[chunks:5]]", cfg));
  run();
  CAF_REQUIRE_EQUAL(seen().chunks.size(), 5u);
  for (int i = 0; i < 5; ++i)
    CAF_CHECK_EQUAL(seen().chunks[i], scripted_chunk(i));
  CAF_CHECK_EQUAL(seen().done, 1);
}

CAF_TEST(fail after n chunks raises) {
  auto job = sys.spawn(scripted_provider, target,
                       parse_scripted_plan("[[chunks:9]] [[fail-after:2]]", cfg));
  caf::error reason;
  job->attach_functor([&](const caf::error& r) { reason = r; });
  run();
  CAF_CHECK_EQUAL(seen().chunks.size(), 2u);
  CAF_CHECK_EQUAL(seen().done, 0);
  CAF_CHECK(reason != caf::none);
  CAF_CHECK(caf::to_string(reason).find("failed after 2 chunks") != std::string::npos);
}

CAF_TEST(stall goes silent without exiting) {
  auto job = sys.spawn(scripted_provider, target, parse_scripted_plan("[[stall]]", cfg));
  bool exited = false;
  job->attach_functor([&](const caf::error&) { exited = true; });
  run();
  CAF_CHECK_EQUAL(seen().chunks.size(), static_cast<std::size_t>(cfg.stall_after));
  CAF_CHECK(!exited);
  anon_send_exit(job, caf::exit_reason::kill);
  run();
}

CAF_TEST(a continued answer resumes at the stored length: the final text is the uninterrupted one) {
  std::string whole;
  for (int i = 0; i < 12; ++i)
    whole += scripted_chunk(i);
  for (std::size_t stored : {std::size_t{0}, std::size_t{1}, std::size_t{7}, whole.size() - 1, whole.size()}) {
    auto sink_actor = sys.spawn(sink);
    auto plan = parse_scripted_plan("[[chunks:12]]", cfg);
    plan.resume_text_bytes = stored;
    sys.spawn(scripted_provider, caf::actor_cast<job_sink_actor>(sink_actor), plan);
    run();
    auto& got = deref<caf::stateful_actor<sink_state>>(sink_actor).state;
    std::string text = whole.substr(0, stored);
    for (auto& c : got.chunks)
      text += c;
    CAF_CHECK_EQUAL(text, whole);
    CAF_CHECK_EQUAL(got.done, 1);
  }
}

CAF_TEST_FIXTURE_SCOPE_END()

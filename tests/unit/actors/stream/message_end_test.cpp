// How a message's stream ends (SPEC §4, §12): exactly once whatever the job does, and what a
// continued or handed-over answer stores.
#define CAF_SUITE message_end
#include "message_fixture.hpp"

CAF_TEST_FIXTURE_SCOPE(message_end_tests, fixture)

CAF_TEST(normal job exit completes once with the final text) {
  chunk("hello ");
  chunk("world");
  self->send(job(), std::string("finish"));
  consume_messages();
  expect_single_end("complete");
  CAF_CHECK_EQUAL(written().finishes[0].content, "hello world");
}

CAF_TEST(job exception ends with error) {
  chunk("partial");
  self->send(job(), std::string("throw"));
  consume_messages();
  expect_single_end("error");
  CAF_CHECK_EQUAL(written().finishes[0].content, "partial");
  CAF_CHECK(!written().finishes[0].error.empty());
}

CAF_TEST(killed job ends interrupted) {
  chunk("partial");
  anon_send_exit(job(), caf::exit_reason::kill);
  consume_messages();
  expect_single_end("interrupted");
}

CAF_TEST(cancel ends cancelled once however often it is asked) {
  chunk("partial");
  self->send(msg, cancel_atom::value);
  self->send(msg, cancel_atom::value);
  consume_messages();
  expect_single_end("cancelled");
}

CAF_TEST(stalled job ends with error after the idle timeout) {
  chunk("partial");
  advance_time(mcfg.idle_timeout / 2);
  consume_messages();
  CAF_CHECK(state().streaming);
  advance_time(mcfg.idle_timeout);
  consume_messages();
  expect_single_end("error");
  CAF_CHECK(written().finishes[0].error.find("idle") != std::string::npos);
}

CAF_TEST(chunks after the end are ignored) {
  chunk("a");
  self->send(msg, cancel_atom::value);
  consume_messages();
  chunk("late");
  CAF_CHECK_EQUAL(state().answer.content(), "a");
  CAF_CHECK_EQUAL(events().size(), 2u);  // one update, one end
}

CAF_TEST(a continued answer starts from the stored parts and writes only what follows) {
  auto m = continued({"Hello ", "Thought. ",
                      R"([{"call_id":"c1","name":"search","status":"done","summary":"search finished"}])", 1});
  auto& st = deref<message_actor_actor::stateful_base<message_state>>(m).state;
  CAF_CHECK(st.continued);
  CAF_CHECK_EQUAL(st.answer.parts(), 3);
  CAF_CHECK_EQUAL(st.answer.content(), "Hello ");
  CAF_CHECK_EQUAL(st.answer.thinking(), "Thought. ");
  CAF_CHECK_EQUAL(st.answer.tool_calls_json(),
                  R"([{"call_id":"c1","name":"search","status":"done","summary":"search finished"}])");
  auto appended = written().appends.size();
  self->send(m, chunk_atom::value, std::string("world"));
  consume_messages();
  advance_time(mcfg.flush_interval);
  consume_messages();
  CAF_REQUIRE_EQUAL(written().appends.size(), appended + 1);
  auto& d = written().appends.back();
  CAF_CHECK_EQUAL(d.message_id, 43);
  CAF_CHECK_EQUAL(d.text, "world");  // the stored text is not written again
  CAF_CHECK_EQUAL(d.text_base, 6);
  CAF_CHECK_EQUAL(d.thinking, "");
  CAF_CHECK_EQUAL(d.thinking_base, 9);
  CAF_CHECK(!d.tools_changed);
  auto late = sys.spawn(recorder);
  self->send(m, caf::subscribe_atom::value, late, true);
  consume_messages();
  auto& seen = deref<caf::stateful_actor<recorder_state>>(late).state.events;
  CAF_REQUIRE_EQUAL(seen.size(), 1u);
  CAF_CHECK_EQUAL(assembled_text(seen), "Hello world");
}

CAF_TEST(a continued answer whose job fails ends interrupted) {
  auto m = continued({"Hello ", "", "[]", 1});
  auto finishes = written().finishes.size();
  self->send(job(), std::string("throw"));
  consume_messages();
  CAF_REQUIRE_EQUAL(written().finishes.size(), finishes + 1);
  auto& f = written().finishes.back();
  CAF_CHECK_EQUAL(f.message_id, 43);
  CAF_CHECK_EQUAL(actorcable::model::to_string(f.status), "interrupted");
  CAF_CHECK_EQUAL(f.error.rfind("continuation failed: ", 0), 0u);
  CAF_CHECK_EQUAL(f.content, "Hello ");
}

CAF_TEST(a stream handed over stores its whole text and quits without announcing an end) {
  chunk("a ");
  chunk("b");
  auto gone = std::make_shared<int>(0);
  for (auto& a : {caf::actor_cast<caf::actor>(msg), job()})
    a->attach_functor([gone](const caf::error&) { ++*gone; });
  self->send(msg, handover_atom::value);
  consume_messages();
  CAF_REQUIRE_EQUAL(written().releases.size(), 1u);
  CAF_CHECK_EQUAL(written().releases[0].message_id, 42);
  CAF_CHECK_EQUAL(written().releases[0].content, "a b");
  CAF_CHECK(written().finishes.empty());
  CAF_CHECK_EQUAL(ends(), 0u);  // subscribers elsewhere wait for the node that continues it
  CAF_CHECK_EQUAL(events().size(), 2u);
  CAF_CHECK_EQUAL(*gone, 2);  // the job and the actor
}

CAF_TEST(a handover and a continuation are counted) {
  actorcable::metrics stats;
  mcfg.metrics = &stats;
  auto m = continued({"Hello ", "", "[]", 1});
  CAF_CHECK_EQUAL(stats.active_streams.load(), 1);
  self->send(m, handover_atom::value);
  consume_messages();
  CAF_CHECK_EQUAL(stats.handovers_total.load(), 1);
  CAF_CHECK_EQUAL(stats.active_streams.load(), 0);
  CAF_CHECK_EQUAL(stats.message_actors.load(), 0);
}

CAF_TEST(the stream of an outside producer is not handed over) {
  job_spec spec{44, 7, "", {}};
  auto producer = sys.spawn(puppet_job);
  spec.producer = producer;
  auto m = sys.spawn(message_actor, std::move(spec), mcfg, writer,
                     job_launcher{[](caf::local_actor*, const job_spec&) { return caf::actor{}; }});
  self->send(m, start_atom::value);
  consume_messages();
  self->send(m, handover_atom::value);
  consume_messages();
  CAF_CHECK(written().releases.empty());
  CAF_CHECK(deref<message_actor_actor::stateful_base<message_state>>(m).state.streaming);
}

CAF_TEST_FIXTURE_SCOPE_END()

// The message actor under the deterministic scheduler: order, coalescing, replay, catch-up.
#define CAF_SUITE message_actor
#include "message_fixture.hpp"

CAF_TEST_FIXTURE_SCOPE(message_actor_tests, fixture)

CAF_TEST(claims its row then launches the job) {
  CAF_CHECK_EQUAL(written().claims.size(), 1u);
  CAF_CHECK(job() != nullptr);
}

CAF_TEST(chunks reach subscribers in order with increasing offsets) {
  for (int i = 0; i < 20; ++i)
    chunk("c" + std::to_string(i) + " ");
  CAF_REQUIRE_EQUAL(events().size(), 20u);
  std::string assembled;
  for (std::size_t i = 0; i < events().size(); ++i) {
    CAF_CHECK_EQUAL(events()[i]->offset, static_cast<std::int64_t>(i + 1));
    CAF_CHECK(events()[i]->type == stream_event::kind::update);
    assembled += "c" + std::to_string(i) + " ";
  }
  CAF_CHECK_EQUAL(state().answer.content(), assembled);
  CAF_CHECK(events()[3]->message_json.find("\"chunk\":\"c3 \"") != std::string::npos);
}

CAF_TEST(persistence is coalesced into few appends that add up to the exact text) {
  for (int i = 0; i < 200; ++i) {
    chunk("x" + std::to_string(i));
    advance_time(5ms);  // 200 chunks/s for one second
    consume_messages();
  }
  advance_time(mcfg.flush_interval);
  consume_messages();
  auto& appends = written().appends;
  auto per_second = static_cast<std::size_t>(1s / mcfg.flush_interval);  // 8 at 120 ms
  CAF_CHECK_LESS_OR_EQUAL(appends.size(), per_second + 1);
  CAF_CHECK_GREATER_OR_EQUAL(appends.size(), per_second - 1);
  std::string joined;
  for (auto& d : appends) {
    CAF_CHECK_EQUAL(d.text_base, static_cast<std::int64_t>(joined.size()));
    joined += d.text;
  }
  CAF_CHECK_EQUAL(joined, state().answer.content());
}

CAF_TEST(parts of every kind share one offset sequence in the order they came) {
  self->send(msg, thinking_atom::value, std::string("hmm "));
  self->send(msg, thinking_atom::value, std::string("so "));
  self->send(msg, tool_atom::value, tool_call{"c1", "search", "running", "Searching"});
  self->send(msg, chunk_atom::value, std::string("Hello"));
  self->send(msg, tool_atom::value, tool_call{"c1", "search", "done", "Found 3"});
  self->send(msg, thinking_atom::value, std::string("more"));
  consume_messages();
  using k = stream_event::kind;
  std::vector<k> kinds{k::thinking, k::thinking, k::tool, k::update, k::tool, k::thinking};
  CAF_REQUIRE_EQUAL(events().size(), kinds.size());
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    CAF_CHECK(events()[i]->type == kinds[i]);
    CAF_CHECK_EQUAL(events()[i]->offset, static_cast<std::int64_t>(i + 1));
  }
  auto v = boost::json::parse(events()[2]->message_json).as_object();
  CAF_CHECK_EQUAL(v["action"].as_string(), "tool_update");
  CAF_CHECK_EQUAL(v["call_id"].as_string(), "c1");
  CAF_CHECK_EQUAL(v["status"].as_string(), "running");
  CAF_CHECK_EQUAL(v["summary"].as_string(), "Searching");
  v = boost::json::parse(events()[0]->message_json).as_object();
  CAF_CHECK_EQUAL(v["action"].as_string(), "thinking_update");
  CAF_CHECK_EQUAL(v["chunk"].as_string(), "hmm ");
  CAF_CHECK_EQUAL(state().answer.thinking(), "hmm so more");
  CAF_CHECK_EQUAL(state().answer.content(), "Hello");
}

CAF_TEST(a late subscriber gets text reasoning and the running tool folded into current_state) {
  self->send(msg, thinking_atom::value, std::string("a \"b\""));
  self->send(msg, tool_atom::value, tool_call{"c1", "search", "running", "Searching"});
  self->send(msg, chunk_atom::value, std::string("Hi"));
  consume_messages();
  auto late = sys.spawn(recorder);
  self->send(msg, caf::subscribe_atom::value, late, true);
  consume_messages();
  auto& got = deref<caf::stateful_actor<recorder_state>>(late).state.events;
  CAF_REQUIRE_EQUAL(got.size(), 1u);
  CAF_CHECK(got[0]->type == stream_event::kind::state);
  CAF_CHECK_EQUAL(got[0]->offset, 3);
  auto v = boost::json::parse(got[0]->message_json).as_object();
  CAF_CHECK_EQUAL(v["content"].as_string(), "Hi");
  CAF_CHECK_EQUAL(v["thinking"].as_string(), "a \"b\"");
  CAF_CHECK_EQUAL(v["tool_status"].as_string(), "Searching");
  self->send(msg, tool_atom::value, tool_call{"c1", "search", "done", "Found"});
  consume_messages();
  auto later = sys.spawn(recorder);
  self->send(msg, caf::subscribe_atom::value, later, true);
  consume_messages();
  auto& again = deref<caf::stateful_actor<recorder_state>>(later).state.events;
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  CAF_CHECK(boost::json::parse(again[0]->message_json).as_object()["tool_status"].is_null());
}

CAF_TEST(a replay from an offset resends the parts after it as they were) {
  self->send(msg, thinking_atom::value, std::string("t1"));
  self->send(msg, chunk_atom::value, std::string("x1"));
  self->send(msg, tool_atom::value, tool_call{"c", "calc", "running", "Adding"});
  self->send(msg, thinking_atom::value, std::string("t2"));
  self->send(msg, chunk_atom::value, std::string("x2"));
  consume_messages();
  auto replayer = sys.spawn(recorder);
  catchup c;
  c.how = catchup::mode::replay;
  c.epoch = state().epoch;
  c.after = 2;
  self->send(msg, caf::subscribe_atom::value, replayer, c);
  consume_messages();
  auto& got = deref<caf::stateful_actor<recorder_state>>(replayer).state.events;
  CAF_REQUIRE_EQUAL(got.size(), 3u);
  for (std::size_t i = 0; i < got.size(); ++i)
    CAF_CHECK_EQUAL(got[i]->message_json, events()[i + 2]->message_json);
  CAF_CHECK_EQUAL(got[2]->offset, 5);
}

CAF_TEST(text and reasoning of one flush interval go to the writer in one append) {
  self->send(msg, thinking_atom::value, std::string("think"));
  self->send(msg, chunk_atom::value, std::string("one "));
  self->send(msg, chunk_atom::value, std::string("two"));
  self->send(msg, tool_atom::value, tool_call{"c", "calc", "running", "Adding"});
  consume_messages();
  CAF_CHECK(written().appends.empty());
  advance_time(mcfg.flush_interval);
  consume_messages();
  CAF_REQUIRE_EQUAL(written().appends.size(), 1u);
  auto& d = written().appends[0];
  CAF_CHECK_EQUAL(d.text, "one two");
  CAF_CHECK_EQUAL(d.thinking, "think");
  CAF_CHECK(d.tools_changed);
  CAF_CHECK_EQUAL(d.tool_status, "Adding");
  CAF_CHECK(d.tool_calls.find("\"calc\"") != std::string::npos);
  self->send(job(), std::string("finish"));
  consume_messages();
  CAF_REQUIRE_EQUAL(written().finishes.size(), 1u);
  CAF_CHECK_EQUAL(written().finishes[0].thinking, "think");
  CAF_CHECK(written().finishes[0].tool_calls.find("Adding") != std::string::npos);
}

CAF_TEST(a tool report with an unknown status is ignored) {
  self->send(msg, tool_atom::value, tool_call{"c", "calc", "exploded", "?"});
  consume_messages();
  CAF_CHECK(events().empty());
}

CAF_TEST(empty chunks are dropped and invalid utf8 replaced) {
  chunk("");
  chunk("ok\xFF");
  CAF_REQUIRE_EQUAL(events().size(), 1u);
  CAF_CHECK_EQUAL(events()[0]->offset, 1);
  CAF_CHECK_EQUAL(state().answer.content(), "ok\xEF\xBF\xBD");
}

CAF_TEST(a huge chunk passes whole) {
  std::string big(4 * 1024 * 1024, 'z');
  chunk(big);
  CAF_CHECK_EQUAL(state().answer.content().size(), big.size());
  CAF_CHECK_EQUAL(events().size(), 1u);
}

CAF_TEST(late subscriber gets current state then continues without gap) {
  chunk("one ");
  chunk("two ");
  auto late = sys.spawn(recorder);
  self->send(msg, caf::subscribe_atom::value, late, true);
  consume_messages();
  chunk("three");
  auto& got = deref<caf::stateful_actor<recorder_state>>(late).state.events;
  CAF_REQUIRE_EQUAL(got.size(), 2u);
  CAF_CHECK(got[0]->type == stream_event::kind::state);
  CAF_CHECK_EQUAL(got[0]->offset, 2);
  CAF_CHECK(got[0]->message_json.find("\"content\":\"one two \"") != std::string::npos);
  CAF_CHECK_EQUAL(got[1]->offset, 3);
}

CAF_TEST(subscribers joining between two chunks share one state event and a later one sees the new text) {
  chunk("one ");
  auto a = sys.spawn(recorder);
  auto b = sys.spawn(recorder);
  self->send(msg, caf::subscribe_atom::value, a, true);
  self->send(msg, caf::subscribe_atom::value, b, true);
  self->send(msg, caf::subscribe_atom::value, b, true);  // again: still one subscription
  consume_messages();
  CAF_CHECK_EQUAL(state().subscribers.size(), 3u);
  chunk("two");
  auto c = sys.spawn(recorder);
  self->send(msg, caf::subscribe_atom::value, c, true);
  consume_messages();
  auto& got_a = deref<caf::stateful_actor<recorder_state>>(a).state.events;
  auto& got_b = deref<caf::stateful_actor<recorder_state>>(b).state.events;
  auto& got_c = deref<caf::stateful_actor<recorder_state>>(c).state.events;
  CAF_REQUIRE_EQUAL(got_a.size(), 2u);
  CAF_REQUIRE_EQUAL(got_b.size(), 3u);  // the second subscribe sends the state again
  CAF_REQUIRE_EQUAL(got_c.size(), 1u);
  CAF_CHECK(got_a[0] == got_b[0]);  // the same event: its frame is built once per identifier
  CAF_CHECK(got_a[0] != got_c[0]);
  CAF_CHECK_EQUAL(got_c[0]->offset, 2);
  CAF_CHECK(got_c[0]->message_json.find("\"content\":\"one two\"") != std::string::npos);
}

CAF_TEST(dead subscriber is dropped) {
  CAF_CHECK_EQUAL(state().subscribers.size(), 1u);
  anon_send_exit(sub, caf::exit_reason::kill);
  consume_messages();
  CAF_CHECK_EQUAL(state().subscribers.size(), 0u);
  chunk("still streaming");
  CAF_CHECK(state().streaming);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(a row that does not exist refuses to start with a clear error) {
  test_coordinator_fixture<> fx;
  auto writer = fx.sys.spawn(fake_writer);
  fx.deref<fake_writer_actor>(writer).state.row_exists = false;
  bool launched = false;
  job_launcher launch = [&](caf::local_actor* parent, const job_spec&) {
    launched = true;
    return parent->spawn(puppet_job);
  };
  auto msg = fx.sys.spawn(message_actor, job_spec{999, 1, "q", {}}, message_actor_config{},
                          writer, launch);
  caf::error result;
  auto pending = fx.self->request(msg, caf::infinite, start_atom::value);
  fx.run();
  pending.receive([](bool) {}, [&](caf::error& err) { result = err; });
  CAF_CHECK(!launched);
  CAF_CHECK(caf::to_string(result).find("does not exist") != std::string::npos);
}

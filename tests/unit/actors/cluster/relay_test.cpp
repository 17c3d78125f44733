// A relay (this node's stand-in for a message actor elsewhere) under the deterministic scheduler:
// each subscriber gets its catch-up, then the live events, in the origin's order; an origin lost
// without an end ends the stream here as interrupted, or (SPEC §12) the relay follows the node
// that took the answer over.
#define CAF_SUITE relay
#include "test_dsl.hpp"

#include "actors/stream/message_actor.hpp"
#include "actors/cluster/relay.hpp"
#include "fake_actors.hpp"

using namespace actorcable;
using namespace actorcable::actors;
using namespace actorcable::testing;

namespace {

struct fixture : test_coordinator_fixture<> {
  actorcable::metrics stats;
  actors::stream_writer_actor writer = sys.spawn(fake_writer);
  caf::actor origin;
  relay_actor rel;

  fixture() {
    job_launcher launch = [](caf::local_actor* parent, const job_spec&) {
      return parent->spawn(puppet_job);
    };
    origin = caf::actor_cast<caf::actor>(sys.spawn(message_actor, job_spec{42, 7, "question", {}}, message_actor_config{},
                       writer, launch));
    self->send(origin, start_atom::value);
    consume_messages();
    rel = sys.spawn(relay, std::int64_t{42}, caf::actor_cast<message_actor_actor>(origin),
                    caf::timespan{0}, &stats);
    consume_messages();
  }
  // The relay again, waiting `wait` for a takeover when its origin is lost.
  void awaiting_takeover(caf::timespan wait) {
    self->send_exit(rel, caf::exit_reason::kill);
    rel = sys.spawn(relay, std::int64_t{42}, caf::actor_cast<message_actor_actor>(origin), wait,
                    &stats);
    consume_messages();
  }
  // The message's actor on the node that took it over, from the stored text `stored`.
  caf::actor taken_over(std::string stored) {
    job_launcher launch = [](caf::local_actor* parent, const job_spec&) {
      return parent->spawn(puppet_job);
    };
    job_spec spec{42, 7, "question", {}};
    spec.resumed = resumed_answer{std::move(stored), "", "[]", 1};
    auto next = sys.spawn(message_actor, std::move(spec), message_actor_config{}, writer, launch);
    self->send(next, start_atom::value);
    consume_messages();
    return caf::actor_cast<caf::actor>(next);
  }
  void chunk_to(const caf::actor& to, std::string text) {
    self->send(to, chunk_atom::value, std::move(text));
    consume_messages();
  }
  caf::actor subscriber(catchup::mode how) {
    auto sub = sys.spawn(recorder);
    catchup c;
    c.how = how;
    self->send(rel, caf::subscribe_atom::value, sub, c);
    consume_messages();
    return sub;
  }
  void chunk(std::string text) {
    self->send(origin, chunk_atom::value, std::move(text));
    consume_messages();
  }
  std::vector<stream_event_ptr>& events(const caf::actor& sub) {
    return deref<caf::stateful_actor<recorder_state>>(sub).state.events;
  }
  // The text a subscriber assembled: current_state replaces, updates append.
  std::string text(const caf::actor& sub) {
    std::string out;
    for (auto& ev : events(sub)) {
      auto& json = ev->message_json;
      if (ev->type == stream_event::kind::state) {
        auto at = json.find("\"content\":\"") + 11;
        out = json.substr(at, json.find('"', at) - at);
      } else if (ev->type == stream_event::kind::update) {
        auto at = json.find("\"chunk\":\"") + 9;
        out += json.substr(at, json.find('"', at) - at);
      }
    }
    return out;
  }
  // A connection's subscription through the relay (`bridge` stands for its bridge actor).
  std::shared_ptr<fake_port> connection(const std::shared_ptr<fake_tap>& thread,
                                        const caf::actor& bridge, catchup::mode how) {
    auto port = std::make_shared<fake_port>(thread);
    catchup c;
    c.how = how;
    c.tag = 5;
    c.port = port;
    c.identifier = R"({"channel":"X"})";
    self->send(rel, caf::subscribe_atom::value, bridge, c);
    consume_messages();
    return port;
  }
  relay_state& relay_st() { return deref<relay_actor::stateful_base<relay_state>>(rel).state; }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(relay_tests, fixture)

CAF_TEST(subscribers that join at different times all get the exact text) {
  auto early = subscriber(catchup::mode::state_if_streaming);
  chunk("one ");
  chunk("two ");
  auto late = subscriber(catchup::mode::state_if_streaming);
  chunk("three");
  CAF_CHECK_EQUAL(text(early), "one two three");
  CAF_CHECK_EQUAL(text(late), "one two three");
  CAF_CHECK_EQUAL(events(late).front()->type, stream_event::kind::state);
  CAF_CHECK_EQUAL(events(late).front()->offset, 2);
  // Three live events reached the relay once each, not once per subscriber.
  CAF_CHECK_EQUAL(stats.cluster_frames_received_total.load(), 3);
  self->send(origin, cancel_atom::value);
  consume_messages();
  for (auto& sub : {early, late}) {
    CAF_REQUIRE(!events(sub).empty());
    CAF_CHECK_EQUAL(events(sub).back()->type, stream_event::kind::end);
    CAF_CHECK_EQUAL(actorcable::testing::end_status(*events(sub).back()), "cancelled");
  }
}

CAF_TEST(a replay asked through the relay gives exactly the chunks after the offset) {
  chunk("a");
  chunk("b");
  chunk("c");
  auto epoch = deref<message_actor_actor::stateful_base<message_state>>(origin).state.epoch;
  auto sub = sys.spawn(recorder);
  catchup c;
  c.how = catchup::mode::replay;
  c.after = 1;
  c.epoch = epoch;
  self->send(rel, caf::subscribe_atom::value, sub, c);
  consume_messages();
  chunk("d");
  std::vector<std::int64_t> offsets;
  for (auto& ev : events(sub))
    offsets.push_back(ev->offset);
  CAF_CHECK_EQUAL(offsets, (std::vector<std::int64_t>{2, 3, 4}));
}

CAF_TEST(the last subscriber leaving stops the events crossing) {
  auto sub = subscriber(catchup::mode::none);
  CAF_CHECK(relay_st().subscribed);
  self->send(rel, caf::unsubscribe_atom::value, sub);
  consume_messages();
  CAF_CHECK(!relay_st().subscribed);
  CAF_CHECK(deref<message_actor_actor::stateful_base<message_state>>(origin).state.subscribers.empty());
  chunk("unseen");
  CAF_CHECK(events(sub).empty());
}

CAF_TEST(an origin lost without an end ends the stream here as interrupted) {
  auto sub = subscriber(catchup::mode::none);
  chunk("x");
  chunk("y");
  self->send_exit(origin, caf::exit_reason::remote_link_unreachable);
  consume_messages();
  CAF_REQUIRE_EQUAL(events(sub).size(), 3u);
  auto& end = *events(sub).back();
  CAF_CHECK_EQUAL(end.type, stream_event::kind::end);
  CAF_CHECK_EQUAL(actorcable::testing::end_status(end), "interrupted");
  CAF_CHECK_EQUAL(end.offset, 3);  // after the two chunks, as the origin would have numbered it
}

CAF_TEST(connections behind a relay take its events through their thread's tap like a local stream's) {
  auto thread = std::make_shared<fake_tap>();
  auto bridge = sys.spawn(recorder);
  chunk("one ");
  auto early = connection(thread, bridge, catchup::mode::state_if_streaming);
  chunk("two ");
  auto late = connection(thread, bridge, catchup::mode::state_if_streaming);
  chunk("three");
  for (auto& port : {early, late}) {
    CAF_CHECK_EQUAL(port->attaches, 1);
    CAF_CHECK_EQUAL(port->message_id, 42);
    CAF_CHECK_EQUAL(port->attached_as, R"({"channel":"X"})");
    CAF_REQUIRE(!port->caught_up.empty());
    CAF_CHECK_EQUAL(port->caught_up.front()->type, stream_event::kind::state);
    CAF_CHECK_EQUAL(assembled_text(port->seen()), "one two three");
  }
  CAF_CHECK_EQUAL(early->caught_up.front()->offset, 1);
  CAF_CHECK_EQUAL(late->caught_up.front()->offset, 2);
  // One delivery per event to the thread, however many connections it has; none as messages.
  CAF_CHECK_EQUAL(thread->delivered.size(), 2u);
  CAF_CHECK(events(bridge).empty());
  CAF_CHECK_EQUAL(relay_st().taps.size(), 1u);
  self->send(origin, cancel_atom::value);
  consume_messages();
  for (auto& port : {early, late}) {
    auto seen = port->seen();
    CAF_CHECK_EQUAL(seen.back()->type, stream_event::kind::end);
    CAF_CHECK_EQUAL(actorcable::testing::end_status(*seen.back()), "cancelled");
  }
}

CAF_TEST(a connection behind a relay whose origin is lost gets interrupted through its tap) {
  auto thread = std::make_shared<fake_tap>();
  auto bridge = sys.spawn(recorder);
  auto port = connection(thread, bridge, catchup::mode::none);
  chunk("x");
  self->send_exit(origin, caf::exit_reason::remote_link_unreachable);
  consume_messages();
  auto seen = port->seen();
  CAF_REQUIRE_EQUAL(seen.size(), 2u);
  CAF_CHECK_EQUAL(seen.back()->type, stream_event::kind::end);
  CAF_CHECK_EQUAL(actorcable::testing::end_status(*seen.back()), "interrupted");
  CAF_CHECK(events(bridge).empty());
}

CAF_TEST(the last connection leaving a relay stops the events crossing) {
  auto thread = std::make_shared<fake_tap>();
  auto bridge = sys.spawn(recorder);
  connection(thread, bridge, catchup::mode::none);
  CAF_CHECK(relay_st().subscribed);
  self->send(rel, caf::unsubscribe_atom::value, bridge);
  consume_messages();
  CAF_CHECK(!relay_st().subscribed);
  chunk("unseen");
  CAF_CHECK(thread->delivered.empty());
}

CAF_TEST(a relay follows the node that took its answer over with its state then its events and no end) {
  awaiting_takeover(std::chrono::seconds(17));
  auto sub = subscriber(catchup::mode::none);
  auto thread = std::make_shared<fake_tap>();
  auto bridge = sys.spawn(recorder);
  auto port = connection(thread, bridge, catchup::mode::none);
  chunk("one ");
  chunk("two ");
  self->send_exit(origin, caf::exit_reason::remote_link_unreachable);
  consume_messages();
  CAF_CHECK_EQUAL(events(sub).size(), 2u);  // no end: the answer goes on elsewhere
  CAF_CHECK(relay_st().origin == nullptr);
  // A client arriving meanwhile is added; the state that comes covers it.
  auto meanwhile = subscriber(catchup::mode::state_if_streaming);
  // Stored before the crash: "one " (the last flush missed "two ").
  auto next = taken_over("one ");
  self->send(rel, origin_atom::value, next);
  consume_messages();
  chunk_to(next, "two three");
  self->send(next, cancel_atom::value);
  consume_messages();
  for (auto& s : {sub, meanwhile}) {
    CAF_CHECK_EQUAL(text(s), "one two three");
    CAF_REQUIRE(!events(s).empty());
    CAF_CHECK_EQUAL(actorcable::testing::end_status(*events(s).back()), "cancelled");
    std::size_t ends = 0;
    for (auto& ev : events(s))
      ends += ev->type == stream_event::kind::end ? 1 : 0;
    CAF_CHECK_EQUAL(ends, 1u);
  }
  CAF_CHECK_EQUAL(assembled_text(port->seen()), "one two three");
}

CAF_TEST(events of a replaced origin are dropped) {
  awaiting_takeover(std::chrono::seconds(17));
  auto sub = subscriber(catchup::mode::none);
  chunk("one ");
  // The origin's node was paused past its lease: another node took over, the old one lives.
  auto next = taken_over("one ");
  self->send(rel, origin_atom::value, next);
  consume_messages();
  chunk("stale");
  self->send(origin, end_atom::value, model::stream_status::interrupted, std::string("lease lost"), false);
  consume_messages();
  chunk_to(next, "two");
  CAF_CHECK_EQUAL(text(sub), "one two");
  for (auto& ev : events(sub))
    CAF_CHECK_NOT_EQUAL(ev->type, stream_event::kind::end);
}

CAF_TEST(a relay nobody here subscribed to quits at once when its origin is lost) {
  awaiting_takeover(std::chrono::seconds(17));
  self->monitor(rel);  // the test's own actor hears the relay's end
  chunk("x");
  self->send_exit(origin, caf::exit_reason::remote_link_unreachable);
  consume_messages();
  CAF_CHECK(sched.jobs.empty());
  bool down = false;
  self->receive([&](caf::down_msg& msg) { down = msg.source == rel.address(); },
                caf::after(std::chrono::seconds(0)) >> [] {});
  CAF_CHECK(down);  // not waiting 17 s for a takeover nobody here needs
}

CAF_TEST(with no takeover within the wait the stream ends here as interrupted) {
  awaiting_takeover(std::chrono::seconds(17));
  auto sub = subscriber(catchup::mode::none);
  chunk("x");
  self->send_exit(origin, caf::exit_reason::remote_link_unreachable);
  consume_messages();
  CAF_CHECK_EQUAL(events(sub).size(), 1u);
  advance_time(std::chrono::seconds(17));
  consume_messages();
  CAF_REQUIRE_EQUAL(events(sub).size(), 2u);
  CAF_CHECK_EQUAL(actorcable::testing::end_status(*events(sub).back()), "interrupted");
}

CAF_TEST_FIXTURE_SCOPE_END()

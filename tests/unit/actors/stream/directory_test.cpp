// The directory spawns a message actor per stream and forgets it after its retention.
#define CAF_SUITE directory
#include "test_dsl.hpp"

#include "actors/stream/directory.hpp"
#include "actors/provider/launcher.hpp"
#include "fake_actors.hpp"

using namespace actorcable::actors;
using namespace actorcable::testing;

namespace {

struct origin_probe_state {
  caf::actor origin;
  std::size_t subscribers = 0;
};

// Stands in for a relay: records where it was pointed and counts its subscribers.
caf::behavior origin_probe(caf::stateful_actor<origin_probe_state>* self) {
  return {
    [=](origin_atom, caf::actor& a) { self->state.origin = a; },
    [=](caf::subscribe_atom, caf::actor&, catchup&) {
      ++self->state.subscribers;
      return caf::make_message(caf::actor_cast<caf::actor>(self), true);
    },
  };
}

// Stands in for the cluster: counts the relays asked of it and answers with `relay`.
struct cluster_probe_state {
  caf::actor relay;
  std::vector<std::int64_t> asked;
  std::vector<std::int64_t> unsubscribed;
};

caf::behavior cluster_probe(caf::stateful_actor<cluster_probe_state>* self) {
  return {
    [=](relay_atom, std::int64_t id, caf::actor&) {
      self->state.asked.push_back(id);
      return self->state.relay;
    },
    [=](caf::unsubscribe_atom, std::int64_t id, caf::actor&) {
      self->state.unsubscribed.push_back(id);
    },
  };
}

// Hears what a chat actor tells its subscribers.
struct chat_listener_state {
  std::vector<std::int64_t> streams;
};

caf::behavior chat_listener(caf::stateful_actor<chat_listener_state>* self) {
  return {
    [=](chat_stream_atom, std::int64_t, std::int64_t mid, const caf::actor&) {
      self->state.streams.push_back(mid);
    },
    [=](frame_atom, const stream_event_ptr&) {},
  };
}

// A message actor on another node, as far as the directory can tell: something to monitor;
// "end" ends it normally.
caf::behavior remote_stream(caf::event_based_actor* self) {
  return {[=](const std::string& cmd) {
    if (cmd == "end")
      self->quit();
  }};
}

struct fixture : test_coordinator_fixture<> {
  stream_writer_actor writer = sys.spawn(fake_writer);
  directory_actor dir;
  fixture() {
    dir = sys.spawn(directory, message_actor_config{}, writer,
                    make_job_launcher(provider_config{}, nullptr));
  }
  std::size_t live() {
    return deref<directory_actor::stateful_base<directory_state>>(dir).state.streams.size();
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(directory_tests, fixture)

CAF_TEST(streams run to the end and the directory empties after retention) {
  self->send(dir, start_atom::value, job_spec{1, 1, "[[chunks:3]]", {}});
  self->send(dir, start_atom::value, job_spec{2, 1, "[[chunks:4]]", {}});
  self->send(dir, start_atom::value, job_spec{2, 1, "[[chunks:4]]", {}});  // idempotent
  consume_messages();
  CAF_CHECK_EQUAL(live(), 2u);
  auto sub = sys.spawn(recorder);
  self->send(dir, caf::subscribe_atom::value, std::int64_t{2}, sub, true);
  run();  // includes every timer: the streams end, then their retention passes
  CAF_CHECK_EQUAL(live(), 0u);
  auto& fw = deref<fake_writer_actor>(writer).state;
  CAF_REQUIRE_EQUAL(fw.finishes.size(), 2u);
  for (auto& f : fw.finishes) {
    CAF_CHECK_EQUAL(actorcable::model::to_string(f.status), "complete");
    auto n = f.message_id == 1 ? 3 : 4;
    std::string expected;
    for (int i = 0; i < n; ++i)
      expected += scripted_chunk(i);
    CAF_CHECK_EQUAL(f.content, expected);
  }
  auto& got = deref<caf::stateful_actor<recorder_state>>(sub).state.events;
  CAF_CHECK_EQUAL(actorcable::testing::end_status(*got.back()), "complete");
}

CAF_TEST(subscribing to an unknown stream gives no actor) {
  auto sub = sys.spawn(recorder);
  auto pending = self->request(dir, caf::infinite, caf::subscribe_atom::value, std::int64_t{77},
                               sub, true);
  run();
  bool invalid = false;
  pending.receive([&](caf::actor& a) { invalid = a == nullptr; },
                  [&](caf::error& err) { CAF_FAIL(caf::to_string(err)); });
  CAF_CHECK(invalid);
}

CAF_TEST(a message actor that ends with an error or moves does not take the directory with it) {
  auto& fw = deref<fake_writer_actor>(writer).state;
  fw.row_exists = false;  // its start is refused: the actor quits with an error
  self->send(dir, start_atom::value, job_spec{5, 1, "[[chunks:3]]", {}});
  consume_messages();
  CAF_CHECK_EQUAL(live(), 0u);
  fw.row_exists = true;
  self->send(dir, start_atom::value, job_spec{6, 1, "[[chunks:300]]", {}});
  consume_messages();
  CAF_REQUIRE_EQUAL(live(), 1u);
  auto actor = deref<directory_actor::stateful_base<directory_state>>(dir).state.streams.at(6).actor;
  self->send(actor, moved_atom::value);  // another node took its row (SPEC §12)
  consume_messages();
  CAF_CHECK_EQUAL(live(), 0u);
  CAF_CHECK(deref<directory_actor::stateful_base<directory_state>>(dir).state.children.empty());
  // The directory still answers.
  self->send(dir, start_atom::value, job_spec{7, 1, "[[chunks:2]]", {}});
  consume_messages();
  CAF_CHECK_EQUAL(live(), 1u);
}

CAF_TEST(a stream taken over is started from its stored text and a relay of it points there) {
  auto relay_stand_in = sys.spawn(origin_probe);
  auto& st = deref<directory_actor::stateful_base<directory_state>>(dir).state;
  st.streams.emplace(8, directory_state::stream{relay_stand_in, 1, true, true});
  job_spec spec{8, 1, "[[chunks:3]]", {}};
  spec.resumed = resumed_answer{scripted_chunk(0), "", "[]", 1};
  self->send(dir, continue_atom::value, std::move(spec));
  consume_messages();
  CAF_REQUIRE_EQUAL(live(), 1u);
  CAF_CHECK(!st.streams.at(8).remote);  // the local actor replaced the relay
  CAF_CHECK(deref<caf::stateful_actor<origin_probe_state>>(relay_stand_in).state.origin
            == st.streams.at(8).actor);
  run();
  auto& fw = deref<fake_writer_actor>(writer).state;
  CAF_REQUIRE_EQUAL(fw.finishes.size(), 1u);
  CAF_CHECK_EQUAL(fw.finishes[0].message_id, 8);
  CAF_CHECK_EQUAL(fw.finishes[0].content, scripted_chunk(0) + scripted_chunk(1) + scripted_chunk(2));
}

CAF_TEST(a stream of another node gets a relay here only once something here follows it) {
  auto relay_stand_in = sys.spawn(origin_probe);
  auto cluster = sys.spawn(cluster_probe);
  deref<caf::stateful_actor<cluster_probe_state>>(cluster).state.relay = relay_stand_in;
  auto& asked = deref<caf::stateful_actor<cluster_probe_state>>(cluster).state.asked;
  self->send(dir, caf::put_atom::value, cluster);
  auto origin = sys.spawn(remote_stream);
  auto ended = sys.spawn(remote_stream);
  self->send(dir, chat_stream_atom::value, std::int64_t{3}, std::int64_t{30}, origin);
  self->send(dir, chat_stream_atom::value, std::int64_t{4}, std::int64_t{40}, ended);
  consume_messages();
  CAF_CHECK(asked.empty());  // nobody here follows chat 3 or 4
  CAF_CHECK_EQUAL(live(), 2u);
  self->send(ended, std::string("end"));  // its answer ended there: forgotten here
  consume_messages();
  CAF_CHECK_EQUAL(live(), 1u);
  // A subscriber of chat 3 arrives: the stream is relayed and the chat actor lists the relay.
  auto listener = sys.spawn(chat_listener);
  self->send(dir, caf::join_atom::value, std::int64_t{3}, listener);
  consume_messages();
  CAF_REQUIRE_EQUAL(asked.size(), 1u);
  CAF_CHECK_EQUAL(asked[0], 30);
  auto& st = deref<directory_actor::stateful_base<directory_state>>(dir).state;
  CAF_CHECK(st.streams.at(30).relayed);
  CAF_CHECK(st.streams.at(30).actor == relay_stand_in);
  CAF_CHECK(deref<caf::stateful_actor<origin_probe_state>>(relay_stand_in).state.origin == origin);
  auto& heard = deref<caf::stateful_actor<chat_listener_state>>(listener).state.streams;
  CAF_CHECK_EQUAL(heard, std::vector<std::int64_t>{30});
  // A stream that starts elsewhere in the followed chat is relayed at once.
  auto second = sys.spawn(remote_stream);
  self->send(dir, chat_stream_atom::value, std::int64_t{3}, std::int64_t{31}, second);
  consume_messages();
  CAF_CHECK_EQUAL(asked.size(), 2u);
}

CAF_TEST(a subscriber of a stream of another node is served through a relay) {
  auto cluster = sys.spawn(cluster_probe);
  auto rel = sys.spawn(origin_probe);
  deref<caf::stateful_actor<cluster_probe_state>>(cluster).state.relay = rel;
  self->send(dir, caf::put_atom::value, cluster);
  auto origin = sys.spawn(remote_stream);
  self->send(dir, chat_stream_atom::value, std::int64_t{5}, std::int64_t{50}, origin);
  consume_messages();
  auto sub = sys.spawn(recorder);
  self->send(dir, caf::subscribe_atom::value, std::int64_t{50}, sub, catchup{});
  consume_messages();
  auto& st = deref<directory_actor::stateful_base<directory_state>>(dir).state;
  CAF_CHECK(st.streams.at(50).relayed);
  CAF_CHECK(st.streams.at(50).actor == rel);
  CAF_CHECK_EQUAL(deref<caf::stateful_actor<origin_probe_state>>(rel).state.subscribers, 1u);
  CAF_CHECK_EQUAL(deref<caf::stateful_actor<cluster_probe_state>>(cluster).state.asked.size(), 1u);
}

CAF_TEST(leaving a stream that the cluster relays for this node reaches the cluster) {
  // Subscribed through the cluster's search (the announcement came later, or never).
  auto cluster = sys.spawn(cluster_probe);
  self->send(dir, caf::put_atom::value, cluster);
  auto origin = sys.spawn(remote_stream);
  self->send(dir, chat_stream_atom::value, std::int64_t{6}, std::int64_t{60}, origin);
  auto sub = sys.spawn(recorder);
  self->send(dir, caf::unsubscribe_atom::value, std::int64_t{60}, sub);
  self->send(dir, caf::unsubscribe_atom::value, std::int64_t{61}, sub);
  consume_messages();
  CAF_CHECK_EQUAL(deref<caf::stateful_actor<cluster_probe_state>>(cluster).state.unsubscribed,
                  (std::vector<std::int64_t>{60, 61}));
}

CAF_TEST_FIXTURE_SCOPE_END()

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
};

// Stands in for a relay: records where it was pointed.
caf::behavior origin_probe(caf::stateful_actor<origin_probe_state>* self) {
  return {[=](origin_atom, caf::actor& a) { self->state.origin = a; }};
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
  st.streams.emplace(8, directory_state::stream{relay_stand_in, 1, true});
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

CAF_TEST_FIXTURE_SCOPE_END()

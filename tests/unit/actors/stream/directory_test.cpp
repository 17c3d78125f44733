// The directory spawns a message actor per stream and forgets it after its retention.
#define CAF_SUITE directory
#include "test_dsl.hpp"

#include "actors/stream/directory.hpp"
#include "actors/provider/scripted_provider.hpp"
#include "fake_actors.hpp"

using namespace actorcable::actors;
using namespace actorcable::testing;

namespace {

struct fixture : test_coordinator_fixture<> {
  stream_writer_actor writer = sys.spawn(fake_writer);
  caf::actor dir;
  fixture() {
    job_launcher launch = [](caf::event_based_actor* parent, const job_spec& spec) {
      return parent->spawn(scripted_provider, caf::actor_cast<caf::actor>(parent),
                           parse_scripted_plan(spec.question, scripted_config{}));
    };
    dir = sys.spawn(directory, message_actor_config{}, writer, launch);
  }
  std::size_t live() {
    return deref<caf::stateful_actor<directory_state>>(dir).state.streams.size();
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

CAF_TEST_FIXTURE_SCOPE_END()

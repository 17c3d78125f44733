// The message actor's test fixture: the actor under the deterministic scheduler, with a fake
// writer, a recording subscriber and a puppet job it launched.
#pragma once
#include "test_dsl.hpp"

#include "actors/stream/message_actor.hpp"
#include "fake_actors.hpp"

using namespace actorcable::actors;
using namespace actorcable::testing;
using namespace std::chrono_literals;

namespace {

struct fixture : test_coordinator_fixture<> {
  message_actor_config mcfg;
  stream_writer_actor writer = sys.spawn(fake_writer);
  caf::actor sub = sys.spawn(recorder);
  std::shared_ptr<caf::actor> job_slot = std::make_shared<caf::actor>();
  message_actor_actor msg;

  fixture() {
    auto slot = job_slot;
    job_launcher launch = [slot](caf::local_actor* parent, const job_spec&) {
      *slot = parent->spawn(puppet_job);
      return *slot;
    };
    msg = sys.spawn(message_actor, job_spec{42, 7, "question", {}}, mcfg, writer, launch);
    self->send(msg, start_atom::value);
    consume_messages();
    self->send(msg, caf::subscribe_atom::value, sub, false);
    consume_messages();
  }

  // A message actor continuing an answer taken over (SPEC §12) from what was stored.
  caf::actor continued(resumed_answer stored) {
    auto slot = job_slot;
    job_launcher launch = [slot](caf::local_actor* parent, const job_spec&) {
      *slot = parent->spawn(puppet_job);
      return *slot;
    };
    job_spec spec{43, 7, "question", {}};
    spec.resumed = std::move(stored);
    auto m = sys.spawn(message_actor, std::move(spec), mcfg, writer, launch);
    self->send(m, start_atom::value);
    consume_messages();
    return caf::actor_cast<caf::actor>(m);
  }

  caf::actor job() { return *job_slot; }
  message_state& state() { return deref<message_actor_actor::stateful_base<message_state>>(msg).state; }
  fake_writer_state& written() { return deref<fake_writer_actor>(writer).state; }
  std::vector<stream_event_ptr>& events() {
    return deref<caf::stateful_actor<recorder_state>>(sub).state.events;
  }
  void chunk(std::string text) {
    self->send(msg, chunk_atom::value, std::move(text));
    consume_messages();
  }
  std::size_t ends() {
    std::size_t n = 0;
    for (auto& ev : events())
      n += ev->type == stream_event::kind::end ? 1 : 0;
    return n;
  }
  void expect_single_end(const std::string& status) {
    CAF_CHECK_EQUAL(written().finishes.size(), 1u);
    if (!written().finishes.empty())
      CAF_CHECK_EQUAL(actorcable::model::to_string(written().finishes[0].status), status);
    CAF_CHECK_EQUAL(ends(), 1u);
    CAF_CHECK_EQUAL(actorcable::testing::end_status(*events().back()), status);
    CAF_CHECK(!state().streaming);
  }
};

}  // namespace

#include "actors/directory.hpp"

namespace actorcable::actors {

caf::behavior directory(caf::stateful_actor<directory_state>* self, message_actor_config cfg,
                        caf::actor writer, job_launcher launch) {
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& streams = self->state.streams;
    for (auto i = streams.begin(); i != streams.end(); ++i) {
      if (i->second == msg.source) {
        streams.erase(i);
        return;
      }
    }
  });
  return {
    [=](start_atom, job_spec& spec) -> caf::result<bool> {
      auto& streams = self->state.streams;
      if (streams.count(spec.message_id))
        return true;  // already streaming here: starting twice is a no-op
      auto id = spec.message_id;
      // Linked: a message actor never outlives the directory that can find it.
      auto actor = self->spawn<caf::linked>(message_actor, std::move(spec), cfg, writer, launch);
      self->monitor(actor);
      streams.emplace(id, actor);
      self->delegate(actor, start_atom::value);
      return caf::delegated<bool>{};
    },
    [=](caf::subscribe_atom, std::int64_t id, caf::actor& sub, bool want_state)
      -> caf::result<caf::actor> {
      auto i = self->state.streams.find(id);
      if (i == self->state.streams.end())
        return caf::actor{};
      self->delegate(i->second, caf::subscribe_atom::value, std::move(sub), want_state);
      return caf::delegated<caf::actor>{};
    },
    [=](caf::unsubscribe_atom, std::int64_t id, caf::actor& sub) {
      auto i = self->state.streams.find(id);
      if (i != self->state.streams.end())
        self->send(i->second, caf::unsubscribe_atom::value, std::move(sub));
    },
    [=](cancel_atom, std::int64_t id) -> caf::result<bool> {
      auto i = self->state.streams.find(id);
      if (i == self->state.streams.end())
        return false;
      self->delegate(i->second, cancel_atom::value);
      return caf::delegated<bool>{};
    },
    [=](caf::get_atom) { return self->state.streams.size(); },
  };
}

}  // namespace actorcable::actors

#include "net/cable/session_store.hpp"

namespace actorcable::net {

session_store_actor::behavior_type
session_store(session_store_actor::stateful_pointer<session_store_state> self, caf::timespan ttl,
              actorcable::metrics* metrics) {
  auto count = [metrics](std::atomic<std::int64_t> actorcable::metrics::*m) {
    if (metrics)
      (metrics->*m).fetch_add(1, std::memory_order_relaxed);
  };
  return {
    [=](caf::put_atom, std::string& sid, session_snapshot& snapshot) {
      auto gen = ++self->state.generation;
      self->state.sessions[sid] = {std::move(snapshot), gen};
      self->delayed_send(self, ttl, session_expire_atom::value, std::move(sid), gen);
      count(&actorcable::metrics::sessions_stored_total);
    },
    [=](caf::get_atom, const std::string& sid, std::int64_t user_id) -> caf::result<bool, session_snapshot> {
      auto it = self->state.sessions.find(sid);
      if (it == self->state.sessions.end() || it->second.first.user_id != user_id)
        return {false, session_snapshot{}};
      auto snapshot = std::move(it->second.first);
      self->state.sessions.erase(it);
      count(&actorcable::metrics::sessions_restored_total);
      return {true, std::move(snapshot)};
    },
    [=](session_expire_atom, const std::string& sid, std::uint64_t gen) {
      auto it = self->state.sessions.find(sid);
      if (it != self->state.sessions.end() && it->second.second == gen)
        self->state.sessions.erase(it);
    },
  };
}

}  // namespace actorcable::net

#include "net/cable/session_store.hpp"

namespace actorcable::net {
namespace {

using state_t = session_store_state;

// What a snapshot costs the store: its strings and a fixed overhead per entry.
std::size_t footprint(const std::string& sid, const session_snapshot& s) {
  std::size_t n = sid.size() + 64;
  for (auto& sub : s.subscriptions)
    n += sub.identifier.size() + 48;
  return n;
}

void forget(state_t& st, std::map<std::string, stored_session>::iterator it) {
  auto u = st.users.find(it->second.snapshot.user_id);
  if (u != st.users.end()) {
    u->second.by_age.erase(it->second.generation);
    u->second.bytes -= it->second.bytes;
    if (u->second.by_age.empty())
      st.users.erase(u);
  }
  st.sessions.erase(it);
}

}  // namespace

session_store_actor::behavior_type
session_store(session_store_actor::stateful_pointer<session_store_state> self, caf::timespan ttl,
              session_limits limits, actorcable::metrics* metrics) {
  auto count = [metrics](std::atomic<std::int64_t> actorcable::metrics::*m) {
    if (metrics)
      (metrics->*m).fetch_add(1, std::memory_order_relaxed);
  };
  return {
    [=](caf::put_atom, std::string& sid, session_snapshot& snapshot) {
      auto& st = self->state;
      if (auto old = st.sessions.find(sid); old != st.sessions.end())
        forget(st, old);
      auto bytes = footprint(sid, snapshot);
      if (limits.bytes > 0 && bytes > limits.bytes) {
        count(&actorcable::metrics::limited_sessions);
        return;
      }
      auto user = snapshot.user_id;
      // The user's oldest sessions make room: a client reconnecting in a loop cannot pile them up.
      for (;;) {
        auto u = st.users.find(user);
        if (u == st.users.end())
          break;
        bool over_count = limits.count > 0 && u->second.by_age.size() >= limits.count;
        bool over_bytes = limits.bytes > 0 && u->second.bytes + bytes > limits.bytes;
        if (!over_count && !over_bytes)
          break;
        forget(st, st.sessions.find(u->second.by_age.begin()->second));
        count(&actorcable::metrics::limited_sessions);
      }
      auto gen = ++st.generation;
      auto& u = st.users[user];
      u.by_age.emplace(gen, sid);
      u.bytes += bytes;
      st.sessions[sid] = stored_session{std::move(snapshot), gen, bytes};
      self->delayed_send(self, ttl, session_expire_atom::value, std::move(sid), gen);
      count(&actorcable::metrics::sessions_stored_total);
    },
    [=](caf::get_atom, const std::string& sid, std::int64_t user_id) -> caf::result<bool, session_snapshot> {
      auto& st = self->state;
      auto it = st.sessions.find(sid);
      if (it == st.sessions.end() || it->second.snapshot.user_id != user_id)
        return {false, session_snapshot{}};
      session_snapshot snapshot{user_id, std::move(it->second.snapshot.subscriptions)};
      forget(st, it);
      count(&actorcable::metrics::sessions_restored_total);
      return {true, std::move(snapshot)};
    },
    [=](session_expire_atom, const std::string& sid, std::uint64_t gen) {
      auto& st = self->state;
      auto it = st.sessions.find(sid);
      if (it != st.sessions.end() && it->second.generation == gen)
        forget(st, it);
    },
  };
}

}  // namespace actorcable::net

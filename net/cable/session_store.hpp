// Sessions of the extended protocol: what a closed connection was subscribed to, kept for a
// while under its sid so that a reconnect with ?sid= restores it without new lookups.
#pragma once
#include "common/metrics.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace actorcable::net {

struct restored_subscription {
  std::string identifier;
  std::int64_t account_id = 0;
  std::int64_t chat_id = 0;
};

struct session_snapshot {
  std::int64_t user_id = 0;
  std::vector<restored_subscription> subscriptions;
};

using session_expire_atom = caf::atom_constant<caf::atom("expire")>;

// Per user (SPEC §17, [limits] sessions and session_bytes; 0: none): a user past either loses
// their oldest stored sessions first; one snapshot larger than `bytes` is not stored.
struct session_limits {
  std::size_t count = 16;
  std::size_t bytes = 256 * 1024;
};

// (put_atom, sid, snapshot) keeps it for the store's ttl; (get_atom, sid, user) -> (found,
// snapshot) and forgets it (a session is restored once) when it is that user's: another user's
// sid finds nothing and leaves the session to its owner (SPEC §17); (session_expire_atom, sid, generation) is the
// store's own timer.
using session_store_actor = caf::typed_actor<
  caf::reacts_to<caf::put_atom, std::string, session_snapshot>,
  caf::replies_to<caf::get_atom, std::string, std::int64_t>::with<bool, session_snapshot>,
  caf::reacts_to<session_expire_atom, std::string, std::uint64_t>>;

struct stored_session {
  session_snapshot snapshot;
  std::uint64_t generation = 0;
  std::size_t bytes = 0;
};

struct user_sessions {
  std::map<std::uint64_t, std::string> by_age;  // generation -> sid, oldest first
  std::size_t bytes = 0;
};

struct session_store_state {
  static inline const char* name = "session_store";
  std::map<std::string, stored_session> sessions;  // by sid
  std::map<std::int64_t, user_sessions> users;     // by user id
  std::uint64_t generation = 0;
};

// `metrics` (may be null) counts what is stored and restored, and sessions dropped by a limit.
session_store_actor::behavior_type
session_store(session_store_actor::stateful_pointer<session_store_state> self, caf::timespan ttl,
              session_limits limits, actorcable::metrics* metrics);

}  // namespace actorcable::net

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorcable::net::session_snapshot)

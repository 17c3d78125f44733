// This node's entry in the cluster_nodes table (SPEC §12): renews its heartbeat, reads which
// other nodes are alive, and tells the cluster actor, which dials the ones it does not know.
// Detached: its statements block on its own connection.
#pragma once
#include <optional>
#include "actors/protocol.hpp"

#include <memory>

namespace actorcable::persistence {
class pg_connection;
}

namespace actorcable::actors {

struct membership_config {
  std::string conninfo;
  std::string node;
  std::string address;  // host:port where this node's middleman is published
  int lease_seconds = 6;  // a node not renewed this long is not a peer
  caf::timespan interval = std::chrono::seconds(2);
  caf::actor cluster;
};

struct membership_state {
  static inline const char* name = "membership";
  std::unique_ptr<persistence::pg_connection> conn;
  bool logged_failure = false;
  // Since when this node reaches the database without a break: until a lease has passed, a row
  // that was not renewed may be one its owner could not renew either.
  std::optional<caf::actor_clock::time_point> up_since;
  ~membership_state();
};

// (tick_atom): heartbeat and read, then again after `interval`; the live nodes go to the cluster
// as (members_atom, names, addresses, complete). (leave_atom) -> bool: deletes the row, then quits.
using membership_actor =
  caf::typed_actor<caf::reacts_to<caf::tick_atom>, caf::replies_to<leave_atom>::with<bool>>;

membership_actor::behavior_type
membership(membership_actor::stateful_pointer<membership_state> self, membership_config cfg);

}  // namespace actorcable::actors

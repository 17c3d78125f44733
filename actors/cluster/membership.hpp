// This node's entry in the cluster_nodes table (SPEC §12): renews its heartbeat, reads which
// other nodes are alive, and tells the cluster actor, which dials the ones it does not know.
// Detached: its statements block on its own connection.
#pragma once
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
  ~membership_state();
};

// Reacts to: caf::tick_atom (heartbeat and read, then again after `interval`), leave_atom ->
// bool (delete the row; the actor quits).
caf::behavior membership(caf::stateful_actor<membership_state>* self, membership_config cfg);

}  // namespace actorcable::actors

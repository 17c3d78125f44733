// One actor per WebSocket connection: the ActionCable protocol between a client and the
// message actors it subscribes to (SPEC §5).
#pragma once
#include "actors/protocol.hpp"
#include "common/metrics.hpp"
#include "net/cable_protocol.hpp"
#include "net/cable_socket.hpp"

#include <deque>
#include <functional>
#include <map>
#include <unordered_map>

namespace actorcable::persistence {
class pg_pool;
}

namespace actorcable::net {

using text_atom = caf::atom_constant<caf::atom("text")>;      // socket -> bridge: a text frame
using closed_atom = caf::atom_constant<caf::atom("closed")>;  // socket -> bridge: gone
using authz_atom = caf::atom_constant<caf::atom("authz")>;    // lookup result

struct bridge_config {
  caf::actor directory;
  persistence::pg_pool* pool = nullptr;
  // Runs blocking work (database lookups) off the actor threads.
  std::function<void(std::function<void()>)> run_blocking;
  std::int64_t user_id = 0;
  bool extended = false;  // actioncable-v1-ext-json
  std::size_t max_subscriptions = 256;
  std::string connection_id;
  actorcable::metrics* metrics = nullptr;
};

struct subscription {
  channel_target target;
  bool awaiting_state = false;  // skip updates until this identifier got its current_state
};

struct bridge_state {
  static inline const char* name = "cable_bridge";
  std::shared_ptr<cable_socket> socket;
  std::map<std::string, subscription> subs;  // by identifier, confirmed only
  std::unordered_map<std::int64_t, std::vector<std::string>> identifiers_of;  // message id ->
  std::unordered_map<std::int64_t, caf::actor> streams;  // message id -> its actor (monitored)
  std::deque<cable_command> pending;  // commands wait while a lookup is in flight: order is kept
  bool busy = false;
};

caf::behavior cable_bridge(caf::stateful_actor<bridge_state>* self,
                           std::shared_ptr<cable_socket> socket, bridge_config cfg);

}  // namespace actorcable::net

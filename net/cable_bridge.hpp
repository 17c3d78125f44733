// One actor per WebSocket connection: the ActionCable protocol between a client and the
// message and chat actors it subscribes to (SPEC §5).
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
  caf::group access_changes;  // revocations from the database
  persistence::pg_pool* pool = nullptr;
  // Runs blocking work (database lookups) off the actor threads.
  std::function<void(std::function<void()>)> run_blocking;
  std::int64_t user_id = 0;
  bool extended = false;  // actioncable-v1-ext-json
  std::size_t max_subscriptions = 256;
  double subscribe_rate = 50;   // subscribe commands per second, sustained
  double subscribe_burst = 100;
  std::string connection_id;
  actorcable::metrics* metrics = nullptr;
};

struct subscription {
  channel_target target;
  std::int64_t account_id = 0;  // where access comes from: revoked with the membership
  std::int64_t chat_id = 0;
};

// One identifier receiving one message stream.
struct route {
  std::string identifier;
  bool awaiting_state = true;  // skip updates until this route got its current_state
};

struct stream_link {
  std::vector<route> routes;
  caf::actor actor;  // monitored once known
};

struct bridge_state {
  static inline const char* name = "cable_bridge";
  std::shared_ptr<cable_socket> socket;
  std::map<std::string, subscription> subs;  // confirmed, by identifier
  std::unordered_map<std::int64_t, stream_link> streams;  // by message id
  std::unordered_map<std::int64_t, std::vector<std::string>> chat_routes;  // chat id -> identifiers
  std::deque<cable_command> pending;  // commands wait while a lookup is in flight: order is kept
  bool busy = false;
  double tokens = 0;  // subscribe rate limit (token bucket)
  caf::actor_clock::time_point refilled;
};

caf::behavior cable_bridge(caf::stateful_actor<bridge_state>* self,
                           std::shared_ptr<cable_socket> socket, bridge_config cfg);

}  // namespace actorcable::net

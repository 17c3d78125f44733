// This node's broadcast hub: who listens to which named stream (SPEC §11's `/_broadcast` and
// the database's sync signals). A bridge joins a name for as long as one of its subscriptions
// has it; a broadcast reaches each listener of the name once.
#pragma once
#include "actors/protocol.hpp"
#include "actors/stream/actor_list.hpp"
#include "common/metrics.hpp"

#include <string>
#include <unordered_map>
#include <vector>

namespace actorcable::actors {

struct hub_state {
  static inline const char* name = "broadcast_hub";
  std::unordered_map<std::string, actor_list> listeners;                  // by stream name
  std::unordered_map<caf::actor_addr, std::vector<std::string>> joined;  // by listener
  caf::actor cluster;  // where this node's publications go to reach the other nodes
};

// Reacts to: (caf::join_atom, string stream, actor listener), (caf::leave_atom, string stream,
// actor listener) (a listener that terminates leaves everything), (caf::put_atom, actor cluster),
// (publish_atom, streams, messages), (broadcast_atom, streams, messages): see protocol.hpp.
// `metrics` (may be null) counts the deliveries.
caf::behavior broadcast_hub(caf::stateful_actor<hub_state>* self, actorcable::metrics* metrics);

}  // namespace actorcable::actors

// This node's broadcast hub: who listens to which named stream (SPEC §11's `/_broadcast` and
// the database's sync signals). A bridge joins a name for as long as one of its subscriptions
// has it; a broadcast reaches each listener of the name once.
#pragma once
#include "actors/protocol.hpp"
#include "actors/delivery/actor_list.hpp"
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

// - (join_atom, stream, listener), (leave_atom, stream, listener): a listener that terminates
//   leaves everything; listeners get (broadcast_atom, stream, message);
// - (put_atom, cluster): where publications go to reach the other nodes;
// - (publish_atom, streams, messages) from this node, delivered here and sent to the cluster;
//   (broadcast_atom, streams, messages) from another node (or the database), delivered here.
using broadcast_hub_actor = caf::typed_actor<
  caf::reacts_to<caf::join_atom, std::string, caf::actor>,
  caf::reacts_to<caf::leave_atom, std::string, caf::actor>,
  caf::reacts_to<caf::put_atom, caf::actor>,
  caf::reacts_to<publish_atom, std::vector<std::string>, std::vector<std::string>>,
  caf::reacts_to<broadcast_atom, std::vector<std::string>, std::vector<std::string>>>;

// `metrics` (may be null) counts the deliveries.
broadcast_hub_actor::behavior_type
broadcast_hub(broadcast_hub_actor::stateful_pointer<hub_state> self, actorcable::metrics* metrics);

}  // namespace actorcable::actors

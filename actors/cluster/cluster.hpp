// This node's member of the cluster (SPEC §8), published on the node's middleman port. It keeps
// a connection to every peer (retrying until they are up), finds the actor of a message that
// streams on another node, and keeps one relay per such message here.
#pragma once
#include "actors/protocol.hpp"
#include "common/metrics.hpp"

#include <caf/io/middleman_actor.hpp>

#include <functional>
#include <map>
#include <unordered_map>

namespace actorcable::actors {

struct peer_address {
  std::string host;
  std::uint16_t port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
};

struct cluster_config {
  std::string node;
  std::vector<peer_address> peers;
  caf::io::middleman_actor middleman;
  caf::timespan retry_interval = std::chrono::seconds(1);
  caf::timespan find_timeout = std::chrono::seconds(3);
  actorcable::metrics* metrics = nullptr;
};

struct cluster_state {
  static inline const char* name = "cluster";
  caf::actor directory;
  std::map<std::string, caf::actor> peers;           // by node name
  std::map<caf::actor_addr, std::size_t> dialed;     // peer member -> index in cluster_config::peers
  std::unordered_map<std::int64_t, caf::actor> relays;  // by message id
  std::unordered_map<std::int64_t, std::vector<std::function<void(const caf::actor&)>>> finding;
};

// Reacts to: (caf::put_atom, actor directory), (hello_atom, string node, actor member) -> string,
// (find_atom, int64 id) -> actor (a local message actor, asked by other nodes),
// (subscribe_atom, int64 id, actor sub, catchup) -> (actor, bool) for a message not streaming
// here, (cancel_atom, int64 id) -> bool, (stream_started_atom, int64 chat, int64 id, actor) a local
// stream started, (chat_stream_atom, int64 chat, int64 id, actor) one started elsewhere,
// (relay_atom, int64 id, actor origin) -> actor, (caf::get_atom) -> vector<string> peer names.
caf::behavior cluster(caf::stateful_actor<cluster_state>* self, cluster_config cfg);

}  // namespace actorcable::actors

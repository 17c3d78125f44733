// This node's member of the cluster (SPEC §8), published on the node's middleman port. It keeps
// a connection to every peer (retrying until they are up), finds the actor of a message that
// streams on another node, and keeps one relay per such message here.
#pragma once
#include "actors/protocol.hpp"
#include "actors/broadcast/hub.hpp"
#include "actors/stream/directory_actor.hpp"
#include "common/metrics.hpp"

#include <caf/io/middleman_actor.hpp>

#include <functional>
#include <map>
#include <set>
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
  broadcast_hub_actor hub;  // this node's broadcast hub
  caf::timespan retry_interval = std::chrono::seconds(1);
  caf::timespan find_timeout = std::chrono::seconds(3);
  // streams.continue (SPEC §12): how long a relay whose origin was lost waits for the node that
  // takes the answer over (0: it ends its stream `interrupted` at once).
  caf::timespan takeover_wait{0};
  actorcable::metrics* metrics = nullptr;
};

// An address this node dials until a member answers there: from cluster.peers (fixed) or
// from the membership table (listed while its row is renewed).
struct dial_target {
  peer_address address;
  bool fixed = false;
  bool listed = false;
  bool dialing = false;  // a dial (and its retries) is under way
};

struct cluster_state {
  static inline const char* name = "cluster";
  directory_actor directory;
  std::map<std::string, caf::actor> peers;           // by node name
  std::map<std::string, dial_target> targets;        // by address text
  std::map<caf::actor_addr, std::string> dialed;     // peer member -> its address text
  std::set<std::string> listed_names;                // nodes alive in the table at its last read
  std::set<std::string> not_peers;                   // listed but not peers at the last read
  std::unordered_map<std::int64_t, caf::actor> relays;  // by message id
  std::unordered_map<std::int64_t, std::vector<std::function<void(const caf::actor&)>>> finding;
};

// Reacts to: (caf::put_atom, actor directory), (hello_atom, string node, actor member) -> string,
// (find_atom, int64 id) -> actor (a local message actor, asked by other nodes),
// (subscribe_atom, int64 id, actor sub, catchup) -> (actor, bool) for a message not streaming
// here, (unsubscribe_atom, int64 id, actor sub) passed to this node's relay of it (if any),
// (cancel_atom, int64 id) -> bool, (stream_started_atom, int64 chat, int64 id, actor) a local
// stream started, (chat_stream_atom, int64 chat, int64 id, actor) one started elsewhere,
// (relay_atom, int64 id, actor origin) -> actor, (caf::get_atom) -> vector<string> peer names,
// (members_atom, names, addresses, complete) the live nodes of the membership table: new
// addresses are dialed, a listed node that is not a peer is dialed again, and (when complete) a
// node gone from the table is lost; (publish_atom, streams, messages) this node's
// broadcasts, sent once to each peer, where (broadcast_atom, streams, messages) goes to its hub;
// (handover_atom, ids) rows this node released: each id is sent to one peer (by hash) as
// (take_atom, ids), which a peer passes to its directory.
caf::behavior cluster(caf::stateful_actor<cluster_state>* self, cluster_config cfg);

}  // namespace actorcable::actors

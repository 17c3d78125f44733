// This node's stand-in for a message actor on another node. It is that actor's one subscriber
// here and fans each event out to this node's subscribers, so an event crosses to a node once
// however many clients watch it there (SPEC §8). Catch-up requests pass through it, tagged, so
// that a subscriber gets its catch-up and then the live events in the origin's order. A
// connection's subscription attaches to its I/O thread's tap, as it would to a local message
// actor: a relayed event costs one post per thread, not one message per connection.
#pragma once
#include "actors/delivery/actor_list.hpp"
#include "actors/stream/message_actor.hpp"
#include "actors/delivery/stream_tap.hpp"
#include "actors/protocol.hpp"
#include "common/metrics.hpp"

#include <unordered_map>

namespace actorcable::actors {

struct relay_state {
  static inline const char* name = "relay";
  std::int64_t message_id = 0;
  message_actor_actor origin;
  std::string epoch;
  std::int64_t generation = 0;  // the origin's: a newer owner's is higher (SPEC §12)
  std::int64_t chunks = 0;  // the highest chunk offset seen
  bool ended = false;
  bool subscribed = false;  // registered with the origin
  actor_list subscribers;  // take events as messages
  actor_list tapped;       // take events through their connection's tap, like a local stream's
  std::vector<std::shared_ptr<stream_tap>> taps;  // each gets every event once
  struct waiting {
    caf::actor sub;
    std::uint64_t tag;  // the subscriber's own catch-up tag
    std::shared_ptr<tap_port> port;  // set: its catch-up is gathered and handed to the port
    std::string identifier;
    std::vector<stream_event_ptr> caught_up;
  };
  std::unordered_map<std::uint64_t, waiting> catching_up;  // by the tag given to the origin
  std::uint64_t next_tag = 0;
  std::uint64_t state_tag = 0;  // the tag of the state asked of a new origin: for everyone here
  std::uint64_t orphaned = 0;   // counts the origins lost; the wait for a new one is this one's
};

// its own: the wait for the node that takes the answer over has ended (which loss it was for)
using takeover_wait_atom = caf::atom_constant<caf::atom("tk_wait")>;

// A stream (stream_actor: subscribe answers with this relay) that takes the origin's events,
// (frame_atom, event) live and (frame_atom, event, tag) for a catch-up it asked for, and
// (origin_atom, actor): the message's actor may be this one now (SPEC §12: taken over), followed
// when its generation is higher than the origin's (or equal, while the origin is lost), so that
// a stale owner's announcement (a node paused past its lease, back) is not followed.
// When the origin is lost without ending its stream (its node died or handed the answer over),
// the relay waits up to `takeover_wait` for the new origin: every subscriber here then gets its
// current_state (exact whatever it had seen) and the events that follow. With no new origin by
// then (or a wait of 0) the subscribers get streaming_end "interrupted". Events from an origin
// that was replaced (a paused node's) are dropped.
using relay_actor = stream_actor::extend<
  caf::reacts_to<frame_atom, stream_event_ptr>,
  caf::reacts_to<frame_atom, stream_event_ptr, std::uint64_t>,
  caf::reacts_to<origin_atom, caf::actor>,
  caf::reacts_to<takeover_wait_atom, std::uint64_t>>;

relay_actor::behavior_type relay(relay_actor::stateful_pointer<relay_state> self,
                                 std::int64_t message_id, message_actor_actor origin,
                                 caf::timespan takeover_wait, actorcable::metrics* metrics);

}  // namespace actorcable::actors

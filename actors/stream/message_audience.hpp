// The audience of a message actor (actors/stream/message_actor.hpp): the events it sends, how a
// subscriber joins with what it missed, and how one event reaches every subscriber and tap.
#pragma once
#include "actors/stream/message_actor.hpp"

namespace actorcable::actors::message_parts {

using self_ptr = caf::stateful_actor<message_state>*;

stream_identity identity(self_ptr self);
void count(actorcable::metrics* m, std::atomic<std::int64_t> actorcable::metrics::*field,
           std::int64_t delta);
// streaming_end, with an offset of its own after the last part.
stream_event_ptr end_event(self_ptr self);
// current_state of the text so far, shared until the next part.
stream_event_ptr state_event(self_ptr self, bool streaming);
// Adds a subscriber and sends it what it missed; false when a replay was asked of an epoch or
// offset this actor does not have (nothing is sent then and the subscriber is not added).
bool add_subscriber(self_ptr self, const message_actor_config& cfg, const caf::actor& sub,
                    const catchup& c);
void drop_subscriber(self_ptr self, const message_actor_config& cfg, const caf::actor_addr& sub);
// One event to every subscriber (one shared message) and every tap (one post per I/O thread).
void broadcast(self_ptr self, const message_actor_config& cfg, const stream_event_ptr& ev);

}  // namespace actorcable::actors::message_parts

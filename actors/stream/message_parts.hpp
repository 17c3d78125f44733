// The parts of a message actor (actors/stream/message_actor.hpp) that its behaviour shares:
// its audience (message_audience.cpp: the events it sends, how a subscriber joins with what it
// missed, how one event reaches every subscriber and tap) and its end (message_end.cpp).
#pragma once
#include "actors/stream/message_actor.hpp"

namespace actorcable::actors::message_parts {

using self_ptr = message_actor_actor::stateful_pointer<message_state>;

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

// Takes this actor's share out of the gauges, then quits.
void quit_counted(self_ptr self, const message_actor_config& cfg, caf::error reason);
// The one way a stream ends: persist the whole text, then tell every subscriber. Idempotent.
// With the database down the subscribers are told at once; the writer keeps the final write
// until it can make it.
void stop_streaming(self_ptr self, const message_actor_config& cfg, const stream_writer_actor& writer,
                    model::stream_status status, std::string error, bool wait_for_write = true);
// SPEC §12: the job stops, the whole text is stored and the row's lease ends, so that a peer
// takes the answer over; false when nothing was handed over (an outside producer's, or ended).
caf::result<bool> hand_over(self_ptr self, const message_actor_config& cfg,
                            const stream_writer_actor& writer);
// Another node took the row: the job stops and the actor quits with `stream_moved`.
void move_away(self_ptr self, const message_actor_config& cfg);

}  // namespace actorcable::actors::message_parts

// One actor per chat that has subscribers: it knows the chat's live message streams and tells
// its subscribers about each one, present and future, so a Chat:<id>:messages subscription
// follows new answers without the client subscribing again.
#pragma once
#include "actors/delivery/actor_list.hpp"
#include "actors/protocol.hpp"

#include <map>
#include <vector>

namespace actorcable::actors {

struct chat_state {
  static inline const char* name = "chat";
  std::int64_t chat_id = 0;
  actor_list subscribers;
  std::map<std::int64_t, caf::actor> streams;  // message id -> message actor
};

// - (subscribe_atom, sub) -> this actor: sends `sub` (chat_stream_atom, chat id, message id,
//   stream) for every live stream, now and as they start;
// - (unsubscribe_atom, sub);
// - (stream_started_atom, message id, stream): tells every subscriber, with a `refresh` frame;
// - its own timer: (retire_atom) quits some time after its last subscriber left.
using chat_actor_actor = caf::typed_actor<
  caf::replies_to<caf::subscribe_atom, caf::actor>::with<caf::actor>,
  caf::reacts_to<caf::unsubscribe_atom, caf::actor>,
  caf::reacts_to<stream_started_atom, std::int64_t, caf::actor>,
  caf::reacts_to<retire_atom>>;

chat_actor_actor::behavior_type chat_actor(chat_actor_actor::stateful_pointer<chat_state> self,
                                           std::int64_t chat_id,
                                           std::map<std::int64_t, caf::actor> live_streams);

}  // namespace actorcable::actors

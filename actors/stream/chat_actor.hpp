// One actor per chat that has subscribers: it knows the chat's live message streams and tells
// its subscribers about each one, present and future, so a Chat:<id>:messages subscription
// follows new answers without the client subscribing again.
#pragma once
#include "actors/stream/actor_list.hpp"
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

// Reacts to: (subscribe_atom, actor sub) -> sends it (chat_stream_atom, chat id, message id,
// actor) for every live stream; (unsubscribe_atom, actor sub); (stream_started_atom, int64 message id,
// actor stream) -> tells every subscriber, with a `refresh` frame. Quits some time after its last
// subscriber left.
caf::behavior chat_actor(caf::stateful_actor<chat_state>* self, std::int64_t chat_id,
                         std::map<std::int64_t, caf::actor> live_streams);

}  // namespace actorcable::actors

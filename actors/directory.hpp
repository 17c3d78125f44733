// Finds the actor of a streaming message: spawns it when a stream starts and forgets it when it
// is gone. Hands out actor handles only, so an actor may later live on another node.
#pragma once
#include "actors/message_actor.hpp"

#include <unordered_map>

namespace actorcable::actors {

struct directory_state {
  static inline const char* name = "directory";
  std::unordered_map<std::int64_t, caf::actor> streams;
};

// Reacts to: (start_atom, job_spec) -> bool (error if the row is not streaming),
// (subscribe_atom, int64 id, actor sub, bool want_state) -> actor (invalid when no stream),
// (unsubscribe_atom, int64 id, actor sub), (cancel_atom, int64 id) -> bool,
// (caf::get_atom) -> size_t live streams.
caf::behavior directory(caf::stateful_actor<directory_state>* self, message_actor_config cfg,
                        caf::actor writer, job_launcher launch);

}  // namespace actorcable::actors

// Finds the actor of a streaming message or of a chat: spawns it on demand and forgets it when it
// is gone. Hands out actor handles only, so an actor may later live on another node.
#pragma once
#include "actors/stream/chat_actor.hpp"
#include "actors/stream/directory_actor.hpp"
#include "actors/stream/message_actor.hpp"

#include <unordered_map>
#include <unordered_set>

namespace actorcable::actors {

struct directory_state {
  static inline const char* name = "directory";
  struct stream {
    caf::actor actor;  // local: its message actor; remote: this node's relay, or else the origin
    std::int64_t chat_id;
    bool remote = false;   // the message's actor lives on another node
    bool relayed = false;  // remote, and `actor` is this node's relay of it
  };
  std::unordered_map<std::int64_t, stream> streams;     // by message id
  std::unordered_map<std::int64_t, chat_actor_actor> chats;  // by chat id
  caf::actor cluster;  // finds messages streaming on other nodes (none: a lone node)
  std::unordered_set<caf::actor_addr> children;  // linked: their exits are not the directory's
};

directory_actor::behavior_type directory(directory_actor::stateful_pointer<directory_state> self,
                                         message_actor_config cfg, stream_writer_actor writer,
                                         job_launcher launch);

}  // namespace actorcable::actors

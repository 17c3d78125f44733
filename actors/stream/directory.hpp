// Finds the actor of a streaming message or of a chat: spawns it on demand and forgets it when it
// is gone. Hands out actor handles only, so an actor may later live on another node.
#pragma once
#include "actors/stream/message_actor.hpp"

#include <unordered_map>
#include <unordered_set>

namespace actorcable::actors {

struct directory_state {
  static inline const char* name = "directory";
  struct stream {
    caf::actor actor;
    std::int64_t chat_id;
    bool remote = false;  // a relay of a message actor on another node
  };
  std::unordered_map<std::int64_t, stream> streams;     // by message id
  std::unordered_map<std::int64_t, caf::actor> chats;   // by chat id
  caf::actor cluster;  // finds messages streaming on other nodes (none: a lone node)
  std::unordered_set<caf::actor_addr> children;  // linked: their exits are not the directory's
};

// Reacts to: (start_atom, job_spec) -> bool (error if the row is not streaming),
// (ingest_atom, job_spec with a producer) -> bool (false when the message has a stream here;
// error if the row is not streaming or another node holds it), (outcome_atom, int64 id) ->
// (string status, int64 content bytes, int64 parts) once its end is stored,
// (subscribe_atom, int64 message id, actor sub, bool want_state) -> actor (invalid when none),
// (unsubscribe_atom, int64 message id, actor sub), (cancel_atom, int64 id) -> bool,
// (await_end_atom, int64 id, bool cancel) -> string final text (error when no actor streams it),
// (join_atom, int64 chat id, actor sub) -> chat actor, (leave_atom, int64 chat id, actor sub),
// (end_atom, status, reason) ends every stream now, (db_down_atom, seconds) ends them with
// error, (caf::get_atom) -> size_t live message and chat actors; in a cluster:
// (caf::put_atom, actor cluster), (find_atom, int64 id) -> this node's actor of a message
// (invalid when none), (chat_stream_atom, int64 chat, int64 id, actor origin) a stream that
// started on another node (a relay here is pointed at it when the message was taken over).
// Messages not found here are looked for on the other nodes. SPEC §12: (continue_atom,
// job_spec with `resumed`) continues an answer taken over, (handover_atom) -> vector<int64>
// hands every local stream over (the cluster tells a peer to take them), (take_atom, ids) has
// the writer take rows a peer handed over, (hello_atom, actor peer member) a peer connected: it
// is told this node's streams as (chat_stream_atom, ...), (moved_atom, int64 id) from a message
// actor about to quit because another node took its row: forgotten at once.
caf::behavior directory(caf::stateful_actor<directory_state>* self, message_actor_config cfg,
                        stream_writer_actor writer, job_launcher launch);

}  // namespace actorcable::actors

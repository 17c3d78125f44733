// The directory's interface (actors/stream/directory.hpp): apart from its actor so that the
// message actors it spawns, and everything on the network side, can hold it by type.
#pragma once
#include "actors/protocol.hpp"
#include "actors/store/stream_writer.hpp"

namespace actorcable::actors {

// This node's index of message streams and chat actors:
// - (start_atom, spec) -> bool: spawns the message's actor, which claims the row (error if it
//   is not streaming) and starts the job; starting twice is a no-op;
// - (ingest_atom, spec with a producer) -> bool: the same with an outside producer as the job;
//   false when the message has a stream here already;
// - (outcome_atom, id) -> (status, content bytes, parts) once its end is stored;
// - (subscribe_atom, id, sub, want_state) -> the stream (invalid when none here);
// - (subscribe_atom, id, sub, catchup) -> (the stream, replay possible), looked for on the other
//   nodes when it is not here; (unsubscribe_atom, id, sub);
// - (cancel_atom, id) -> bool; (await_end_atom, id, cancel first) -> the final text (error when
//   no node streams it);
// - (join_atom, chat id, sub) -> the chat actor; (leave_atom, chat id, sub);
// - (end_atom, status, reason): ends every local stream now; (db_down_atom, seconds): ends them
//   with error (the writer's observer);
// - in a cluster: (put_atom, cluster), (find_atom, id) -> this node's actor of a message
//   (invalid when none), (chat_stream_atom, chat id, id, origin) a stream started elsewhere;
// - SPEC §12: (continue_atom, spec with `resumed`) continues an answer taken over;
//   (handover_atom) -> ids: hands every local stream over (the cluster tells a peer to take them);
//   (take_atom, ids) has the writer take rows a peer handed over; (hello_atom, peer member) a peer
//   connected: it is told this node's streams; (moved_atom, id) from a message actor about to quit
//   because another node took its row: forgotten at once;
// - (get_atom) -> the number of live message and chat actors.
using directory_actor = caf::typed_actor<
  caf::replies_to<start_atom, job_spec>::with<bool>,
  caf::replies_to<ingest_atom, job_spec>::with<bool>,
  caf::replies_to<outcome_atom, std::int64_t>::with<model::stream_status, std::int64_t, std::int64_t>,
  caf::replies_to<caf::subscribe_atom, std::int64_t, caf::actor, bool>::with<caf::actor>,
  caf::replies_to<caf::subscribe_atom, std::int64_t, caf::actor, catchup>::with<caf::actor, bool>,
  caf::reacts_to<caf::unsubscribe_atom, std::int64_t, caf::actor>,
  caf::replies_to<cancel_atom, std::int64_t>::with<bool>,
  caf::replies_to<await_end_atom, std::int64_t, bool>::with<std::string>,
  caf::replies_to<caf::join_atom, std::int64_t, caf::actor>::with<caf::actor>,
  caf::reacts_to<caf::leave_atom, std::int64_t, caf::actor>,
  caf::reacts_to<end_atom, model::stream_status, std::string>,
  caf::reacts_to<db_down_atom, std::int64_t>,
  caf::reacts_to<caf::put_atom, caf::actor>,
  caf::replies_to<find_atom, std::int64_t>::with<caf::actor>,
  caf::reacts_to<chat_stream_atom, std::int64_t, std::int64_t, caf::actor>,
  caf::reacts_to<continue_atom, job_spec>,
  caf::replies_to<handover_atom>::with<std::vector<std::int64_t>>,
  caf::reacts_to<take_atom, std::vector<std::int64_t>>,
  caf::reacts_to<hello_atom, caf::actor>,
  caf::reacts_to<moved_atom, std::int64_t>,
  caf::replies_to<caf::get_atom>::with<std::size_t>>;

}  // namespace actorcable::actors

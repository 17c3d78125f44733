// One actor per streaming message: it owns the text, the chunk count (offset), the subscribers
// and the job, and it alone ends the stream, exactly once, whatever happens to the job.
#pragma once
#include "actors/stream/actor_list.hpp"
#include "actors/stream/answer.hpp"
#include "actors/protocol.hpp"
#include "actors/store/stream_writer.hpp"
#include "actors/stream/stream_tap.hpp"
#include "common/metrics.hpp"

#include <chrono>

namespace actorcable::actors {

struct message_actor_config {
  caf::timespan flush_interval = std::chrono::milliseconds(120);  // content persisted at most this often
  caf::timespan idle_timeout = std::chrono::seconds(30);  // a job silent this long ends the stream
  caf::timespan writer_timeout = std::chrono::seconds(30);  // wait for the final write
  caf::timespan retention = std::chrono::minutes(5);  // the actor (and history) outlives the stream
  // A history replay that would cost more than this (text plus a frame's overhead per chunk) is
  // refused: the client gets reject_history and then current_state, one frame.
  std::size_t max_replay_bytes = 256 * 1024;
  actorcable::metrics* metrics = nullptr;
  caf::actor directory;  // set by the directory: where the answers this one waits for are found
};

struct message_state {
  static inline const char* name = "message";
  std::int64_t id = 0;
  std::string oid;
  std::string epoch;
  actors::answer answer;  // its parts, text and reasoning, and what the writer has of them
  actor_list subscribers;  // take events as messages
  actor_list tapped;       // take events through a tap (their connection's thread)
  std::vector<std::shared_ptr<stream_tap>> taps;  // each gets every event once
  // current_state for the text so far, shared by the subscribers that join before the next
  // chunk: one frame per identifier for all of them.
  stream_event_ptr shared_state;
  bool shared_state_streaming = false;
  std::optional<job_spec> spec;  // until the job starts
  caf::actor job;
  bool streaming = true;
  bool ended = false;  // streaming_end announced
  bool cancel_requested = false;
  model::stream_status status = model::stream_status::complete;  // once ended
  bool flush_scheduled = false;
  caf::actor_clock::time_point last_activity;
  bool idle_check_scheduled = false;
  job_result result;
  caf::actor_clock::time_point started_at;
  std::vector<std::function<void()>> end_waiters;  // answer (await_end_atom, ...), (outcome_atom)
  bool producer = false;  // the job is an outside producer (SPEC §11)
  bool continued = false;  // taken over from another node or an earlier life (SPEC §12)
  std::int64_t generation = 0;  // the row's continuations when this actor took it on
};

// Reacts to: (start_atom) -> bool, (chunk_atom, string), (thinking_atom, string),
// (tool_atom, tool_call), (job_done_atom, job_result),
// (subscribe_atom, actor, bool want_state) -> actor, (subscribe_atom, actor, catchup) ->
// (actor, bool replay accepted), (unsubscribe_atom, actor),
// (cancel_atom) -> bool, (await_end_atom, bool cancel) -> string final text, (end_atom, status, reason, bool wait_for_write), (caf::get_atom) -> string content,
// (info_atom) -> (string epoch, int64 parts, bool ended, int64 generation: the continuations
// of the answer when this actor took it on; a later owner's is higher),
// (outcome_atom) -> (string status, int64 content bytes, int64 parts) once the end is stored,
// (handover_atom) -> bool: stops the job, writes the whole text, ends the row's lease so that a
// peer continues the answer, and quits without announcing an end (false: nothing handed over),
// (moved_atom) stops the job and quits with `stream_moved` (another node took the row).
// Started with `spec.resumed`, it continues an answer taken over: the stored parts come first,
// and a job that fails ends it `interrupted`.
caf::behavior message_actor(caf::stateful_actor<message_state>* self, job_spec spec,
                            message_actor_config cfg, stream_writer_actor writer, job_launcher launch);

}  // namespace actorcable::actors

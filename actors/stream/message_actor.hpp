// One actor per streaming message: it owns the text, the chunk count (offset), the subscribers
// and the job, and it alone ends the stream, exactly once, whatever happens to the job.
#pragma once
#include "actors/delivery/actor_list.hpp"
#include "actors/stream/answer.hpp"
#include "actors/protocol.hpp"
#include "actors/store/stream_writer.hpp"
#include "actors/stream/directory_actor.hpp"
#include "actors/delivery/stream_tap.hpp"
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
  directory_actor directory;  // set by the directory: where the answers this one waits for are found
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

// What the holder of a stream asks of it: the message actor, or its relay on another node.
// - (subscribe_atom, sub, catchup) -> (the stream, whether a replay asked for was possible):
//   `sub` gets the catch-up, then every event (as (frame_atom, event[, tag]) messages, or through
//   its connection's tap when the catch-up names a port);
// - (unsubscribe_atom, sub);
// - (cancel_atom) -> whether it was still streaming; (await_end_atom, cancel first) -> the final
//   text once the end is stored; (get_atom) -> the text so far.
using stream_actor = caf::typed_actor<
  caf::replies_to<caf::subscribe_atom, caf::actor, catchup>::with<caf::actor, bool>,
  caf::reacts_to<caf::unsubscribe_atom, caf::actor>,
  caf::replies_to<cancel_atom>::with<bool>,
  caf::replies_to<await_end_atom, bool>::with<std::string>,
  caf::replies_to<caf::get_atom>::with<std::string>>;

// The message actor: a stream, a job's sink, and
// - (start_atom) -> bool: claims the row, then starts the job (once earlier answers ended);
// - (subscribe_atom, sub, want_state) -> this actor (a chat's subscriber: current_state or none);
// - (outcome_atom) -> (status, content bytes, parts) once the end is stored;
// - (end_atom, status, reason, wait_for_write): ends the stream now (shutdown, lease lost);
// - (info_atom) -> stream_info: its epoch, parts, whether it ended, its generation (SPEC §12);
// - (handover_atom) -> bool: stops the job, writes the whole text and ends the row's lease so that
//   a peer continues the answer; quits without announcing an end (false: nothing handed over);
// - (moved_atom): another node took the row: stops the job, quits with `stream_moved`;
// - its own timers: (caf::flush_atom) hands the writer the text since the last flush,
//   (idle_atom) checks for a silent job, (retire_atom) quits after the retention.
// Started with `spec.resumed`, it continues an answer taken over: the stored parts come first, and
// a job that fails ends it `interrupted`.
using message_actor_actor = stream_actor::extend_with<job_sink_actor>::extend<
  caf::replies_to<start_atom>::with<bool>,
  caf::replies_to<caf::subscribe_atom, caf::actor, bool>::with<caf::actor>,
  caf::replies_to<outcome_atom>::with<model::stream_status, std::int64_t, std::int64_t>,
  caf::reacts_to<end_atom, model::stream_status, std::string, bool>,
  caf::replies_to<info_atom>::with<stream_info>,
  caf::replies_to<handover_atom>::with<bool>,
  caf::reacts_to<moved_atom>,
  caf::reacts_to<caf::flush_atom>,
  caf::reacts_to<idle_atom>,
  caf::reacts_to<retire_atom>>;

message_actor_actor::behavior_type
message_actor(message_actor_actor::stateful_pointer<message_state> self, job_spec spec,
              message_actor_config cfg, stream_writer_actor writer, job_launcher launch);

}  // namespace actorcable::actors

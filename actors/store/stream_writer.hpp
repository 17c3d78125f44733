// The one writer of streaming rows: coalesces appends of all streams into one statement per
// flush, makes the final write exact, renews this node's leases and sweeps orphaned streams.
// Runs detached (its own thread) because libpq blocks.
#pragma once
#include "actors/protocol.hpp"
#include "common/metrics.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>

namespace actorcable::persistence {
class pg_connection;
}

namespace actorcable::actors {

// The final write of a stream (mirrors persistence::stream_end without depending on its header).
struct stream_close {
  std::int64_t message_id = 0;
  std::string content;
  std::string thinking;
  std::string tool_calls;  // JSON array of every call's last report
  model::stream_status status = model::stream_status::complete;
  std::string error;
  job_result result;
};

// What a message actor hands the writer once per flush interval: the text and reasoning added
// since the last flush (each after `*_base` bytes already stored) and the tool state now.
struct stream_delta {
  std::int64_t message_id = 0;
  std::string text;
  std::int64_t text_base = 0;
  std::string thinking{};
  std::int64_t thinking_base = 0;
  bool tools_changed = false;  // then tool_status ("": none running) and tool_calls are current
  std::string tool_status{};
  std::string tool_calls{};  // JSON array
};

// The writer's messages (one meaning each).
using claim_atom = caf::atom_constant<caf::atom("claim")>;    // take a row for this node
using append_atom = caf::atom_constant<caf::atom("append")>;  // a flush interval's delta
using finish_atom = caf::atom_constant<caf::atom("finish")>;  // the final, exact write
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;    // renew leases, close orphans
using sync_atom = caf::atom_constant<caf::atom("sync")>;      // write what is pending now
using write_atom = caf::atom_constant<caf::atom("write")>;    // its own: flush the appends
using retry_atom = caf::atom_constant<caf::atom("retry")>;    // its own: after a lost connection
using release_atom = caf::atom_constant<caf::atom("release")>;  // hand a row over (SPEC §12)
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;      // take this node's own orphans
// writer -> its observer (the directory): the database has been unreachable for (seconds)
using db_down_atom = caf::atom_constant<caf::atom("db_down")>;

// Every write is fenced by ownership (`owner_node` and `streaming`): when a row is found closed by
// another node (this node's lease expired, e.g. while it was paused), its message actor is told
// to stop at once with (end_atom, interrupted, reason, false).
// - (put_atom, observer): who is told (db_down_atom, seconds) when the database stays down;
// - (claim_atom, id) -> bool: the row is this node's now (false: no such streaming row);
// - (append_atom, delta): coalesced with the other streams' into one statement per flush;
// - (finish_atom, close) -> bool: once the final write is stored (false: the row was not ours);
// - (sweep_atom, including_own): renews this node's leases and closes orphaned rows (this
//   node's own too when `including_own`, at start); with `continue_streams` and an observer it
//   takes the orphans of provider answers over instead, and tells the observer
//   (continue_atom, job_spec) for each (SPEC §12);
// - (adopt_atom) -> int64: at start, takes over this node's own orphans (its previous life's);
// - (take_atom, ids): takes over these rows now if their lease has ended (a peer handed them);
// - (release_atom, close) -> bool: writes the whole text and ends the lease at once, so that a
//   peer takes the row (false: the row was not ours);
// - (sync_atom) -> (statements, rows): flushes what is pending, then answers the counts so far.
using stream_writer_actor = caf::typed_actor<
  caf::reacts_to<caf::put_atom, caf::actor>,
  caf::replies_to<claim_atom, std::int64_t>::with<bool>,
  caf::reacts_to<append_atom, stream_delta>,
  caf::replies_to<finish_atom, stream_close>::with<bool>,
  caf::reacts_to<sweep_atom, bool>,
  caf::replies_to<adopt_atom>::with<std::int64_t>,
  caf::reacts_to<take_atom, std::vector<std::int64_t>>,
  caf::replies_to<release_atom, stream_close>::with<bool>,
  caf::replies_to<sync_atom>::with<std::int64_t, std::int64_t>,
  caf::reacts_to<write_atom>,
  caf::reacts_to<retry_atom>>;

struct writer_config {
  std::string conninfo;
  std::string node = "local";
  int lease_seconds = 6;
  caf::timespan lease_renew_interval = std::chrono::seconds(2);  // lease / 3
  caf::timespan retry_min = std::chrono::milliseconds(100);
  caf::timespan retry_max = std::chrono::seconds(2);
  // Streams end with error when the database stays unreachable this long (content is written
  // once it is back).
  caf::timespan down_limit = std::chrono::seconds(30);
  // streams.continue: orphaned answers are taken over and continued rather than closed.
  bool continue_streams = true;
  std::size_t history_budget_chars = 24000;  // the context a continued job is given
  actorcable::metrics* metrics = nullptr;
};

struct pending_append {
  stream_delta delta;  // the deltas of several flushes, after the first one's bases
  caf::actor owner;  // the message actor, stopped if the row turns out not to be ours any more
};

struct pending_finish {
  stream_close close;
  caf::typed_response_promise<bool> promise;
};

struct writer_stats {
  std::int64_t append_statements = 0;
  std::int64_t rows_appended = 0;
  std::int64_t finishes = 0;
  std::int64_t failures = 0;
};

struct writer_state {
  static inline const char* name = "stream_writer";
  std::unique_ptr<persistence::pg_connection> conn;
  std::map<std::int64_t, pending_append> appends;
  std::map<std::int64_t, caf::actor> owned;  // rows this node streams into, by id
  std::deque<pending_finish> finishes;
  bool flush_scheduled = false;
  bool retry_scheduled = false;
  caf::timespan backoff{0};
  writer_stats stats;
  caf::actor observer;  // told (db_down_atom, seconds) when the database stays down too long
  std::optional<caf::actor_clock::time_point> down_since;
  // Since when this node reaches the database without a break: other nodes' expired leases are
  // judged only after a full lease of it (their owners may have been cut off too).
  std::optional<caf::actor_clock::time_point> up_since;
  bool down_reported = false;
  ~writer_state();
};

stream_writer_actor::behavior_type
stream_writer(stream_writer_actor::stateful_pointer<writer_state> self, writer_config cfg);

}  // namespace actorcable::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorcable::actors::stream_close)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorcable::actors::stream_delta)

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
  actorcable::metrics* metrics = nullptr;
};

struct pending_append {
  stream_delta delta;  // the deltas of several flushes, after the first one's bases
  caf::actor owner;  // the message actor, stopped if the row turns out not to be ours any more
};

struct pending_finish {
  stream_close close;
  caf::response_promise promise;
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
  bool down_reported = false;
  ~writer_state();
};

// Every write is fenced by ownership (`owner_node` and `streaming`): when a row is found closed by
// another node (this node's lease expired, e.g. while it was paused), its message actor is told
// to stop at once with (end_atom, "interrupted", reason, false).
// Reacts to: (claim_atom, int64) -> bool, (append_atom, stream_delta),
// (finish_atom, stream_close) -> bool, (sync_atom) -> (int64 statements, int64 rows)
// after flushing what is pending.
caf::behavior stream_writer(caf::stateful_actor<writer_state>* self, writer_config cfg);

}  // namespace actorcable::actors

// The writes a streaming message needs: claim, coalesced appends, the final write, leases, sweep.
// Every write of a streaming row is conditional on this node owning it (fencing).
#pragma once
#include "persistence/pg/pg_connection.hpp"

#include <optional>
#include <string>
#include <vector>

namespace actorcable::persistence {

// What one flush adds to a row: text and reasoning, each after what is stored (its size in
// bytes), and, when they changed, the tool state.
struct stream_append {
  std::int64_t message_id = 0;
  std::string delta;
  std::int64_t base_bytes = 0;
  std::string thinking_delta;
  std::int64_t thinking_base_bytes = 0;
  bool tools_changed = false;
  std::string tool_status;        // "": none running (stored as NULL)
  std::string tool_calls = "[]";  // JSON array
};

struct stream_end {
  std::int64_t message_id = 0;
  std::string content;  // the whole text: the last write is exact whatever came before
  std::string thinking;
  std::string tool_calls = "[]";
  std::string status;   // complete | error | cancelled | interrupted
  std::string error;
  std::string model_id;
  std::optional<std::int64_t> input_tokens;
  std::optional<std::int64_t> output_tokens;
};

// Takes ownership of a streaming row; false when it does not exist, is not streaming, or another
// node holds it under a lease that has not run out.
bool claim_stream(pg_connection& conn, std::int64_t message_id, const std::string& node,
                  int lease_seconds);

// One statement for all appends. Returns the ids whose row took the delta; a row that did not
// (not owned, or its stored size moved) is left for the final write to make exact.
std::vector<std::int64_t> append_contents(pg_connection& conn, const std::string& node,
                                          const std::vector<stream_append>& appends);

// Ends the stream; false when the row is no longer this node's streaming row.
bool finish_stream(pg_connection& conn, const std::string& node, const stream_end& end);

// Extends this node's leases of the rows `ids` (those it streams into); returns the ones it
// still owns.
std::vector<std::int64_t> renew_leases(pg_connection& conn, const std::string& node,
                                       int lease_seconds, const std::vector<std::int64_t>& ids);

// Which orphaned rows a call handles: every one (streams.continue = off: all are closed
// `interrupted`), or only the outside producers' (closed `error`, "producer lost": the others
// are taken over and continued).
enum class orphans { all, ingest_only };

// Closes the streaming rows whose lease ran out, and with `including_own` those owned by `node`
// (at start a node owns none: they are its dead incarnation's). Returns their ids.
std::vector<std::int64_t> close_orphans(pg_connection& conn, const std::string& node,
                                        bool including_own, orphans which = orphans::all);

// A streaming answer a node took over (SPEC §12): what was stored of it.
struct taken_stream {
  std::int64_t message_id = 0;
  std::int64_t chat_id = 0;
  std::string content;
  std::string thinking;
  std::string tool_calls = "[]";
  std::string model_id;
  std::int64_t continuations = 0;  // this one included
};

// Which orphans to take: this node's own from its previous life (at start), or the rows whose
// lease ran out (any node's, e.g. a crashed one's, or one handed over).
enum class taking { own, expired };

// Makes `node` the owner of the orphaned streaming rows of a provider's answer (never an outside
// producer's) and counts a continuation on each; only ids in `only` when it is not empty. Fenced:
// of several nodes taking at once, each row goes to one.
std::vector<taken_stream> take_orphans(pg_connection& conn, const std::string& node,
                                       int lease_seconds, taking which,
                                       const std::vector<std::int64_t>& only = {});

// Hands a row over (SPEC §12): the whole text is written and the lease ends now, so that a peer
// takes it at once; false when the row is no longer this node's streaming row.
bool release_stream(pg_connection& conn, const std::string& node, const stream_end& state);

// Text of a PostgreSQL array literal for text[] / bigint[] parameters.
std::string pg_array(const std::vector<std::string>& items);

}  // namespace actorcable::persistence

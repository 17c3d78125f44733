#include "actors/store/stream_writer.hpp"

#include "actors/errors.hpp"
#include "common/log.hpp"
#include "persistence/messages_repository.hpp"
#include "persistence/pg/pg_connection.hpp"
#include "persistence/stream_store.hpp"

#include <algorithm>

namespace actorcable::actors {

writer_state::~writer_state() = default;

namespace {

using self_ptr = stream_writer_actor::stateful_pointer<writer_state>;
namespace db = persistence;

db::pg_connection& connection(self_ptr self, const writer_config& cfg) {
  auto& conn = self->state.conn;
  if (!conn || !conn->healthy())
    conn = std::make_unique<db::pg_connection>(cfg.conninfo);
  return *conn;
}

// Runs `fn` against the database. A lost connection is dropped and reported as false so the
// caller keeps its data for a retry; any other error is logged and reported as true (the data
// cannot be written by retrying).
void database_up(self_ptr self, const writer_config& cfg, bool up) {
  auto& st = self->state;
  if (cfg.metrics)
    cfg.metrics->db_up.store(up ? 1 : 0, std::memory_order_relaxed);
  if (up) {
    if (st.down_since)
      log::info("stream_writer", "database_back", {});
    st.down_since.reset();
    st.down_reported = false;
    if (!st.up_since)
      st.up_since = self->clock().now();
    return;
  }
  st.up_since.reset();
  auto now = self->clock().now();
  if (!st.down_since)
    st.down_since = now;
  if (!st.down_reported && now - *st.down_since >= cfg.down_limit && st.observer) {
    st.down_reported = true;
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - *st.down_since).count();
    caf::anon_send(st.observer, db_down_atom::value, static_cast<std::int64_t>(secs));
  }
}

template <class F>
bool attempt(self_ptr self, const writer_config& cfg, const char* what, F&& fn) {
  try {
    fn(connection(self, cfg));
    self->state.backoff = caf::timespan{0};
    database_up(self, cfg, true);
    return true;
  } catch (const db::pg_error& e) {
    ++self->state.stats.failures;
    log::error("stream_writer", what, {{"error", e.what()}, {"retrying", e.connection_lost()}});
    if (e.connection_lost()) {
      self->state.conn.reset();
      database_up(self, cfg, false);
      return false;
    }
    return true;
  }
}

void schedule_retry(self_ptr self, const writer_config& cfg) {
  auto& st = self->state;
  if (st.retry_scheduled)
    return;
  st.retry_scheduled = true;
  st.backoff = st.backoff == caf::timespan{0} ? cfg.retry_min : std::min(st.backoff * 2, cfg.retry_max);
  self->delayed_send(self, st.backoff, retry_atom::value);
}

// The row is no longer this node's: another node closed it after this node's lease ran out.
void lease_lost(self_ptr self, const writer_config& cfg, std::int64_t id, caf::actor owner) {
  self->state.owned.erase(id);
  if (cfg.metrics)
    cfg.metrics->leases_lost_total.fetch_add(1, std::memory_order_relaxed);
  log::warn("stream_writer", "lease_lost", {{"message_id", id}, {"node", cfg.node}});
  if (owner && cfg.continue_streams)
    caf::anon_send(owner, moved_atom::value);  // another node continues it (SPEC §12)
  else if (owner)
    caf::anon_send(owner, end_atom::value, model::stream_status::interrupted,
               std::string("lease lost: the stream was closed by another node"), false);
}

// libpq never shrinks a connection's buffers: after a statement of many megabytes (a burst of
// large answers in one flush, a long answer's final write) the connection is replaced, so that
// memory goes back once the node is idle (SPEC §17) instead of staying with the connection.
void shed_large_buffers(self_ptr self, std::size_t statement_bytes) {
  constexpr std::size_t large = 8 * 1024 * 1024;
  if (statement_bytes > large)
    self->state.conn.reset();
}

bool flush_appends(self_ptr self, const writer_config& cfg) {
  auto& st = self->state;
  if (st.appends.empty())
    return true;
  std::vector<db::stream_append> batch;
  batch.reserve(st.appends.size());
  for (auto& [id, p] : st.appends) {
    auto& d = p.delta;
    batch.push_back({id, d.text, d.text_base, d.thinking, d.thinking_base, d.tools_changed,
                     d.tool_status, d.tool_calls});
  }
  std::vector<std::int64_t> written;
  bool done = attempt(self, cfg, "append_failed", [&](db::pg_connection& conn) {
    written = db::append_contents(conn, cfg.node, batch);
  });
  std::size_t bytes = 0;
  for (auto& a : batch)
    bytes += a.delta.size() + a.thinking_delta.size() + a.tool_calls.size();
  if (done)
    shed_large_buffers(self, bytes);
  auto rows = written.size();
  if (done) {
    ++st.stats.append_statements;
    st.stats.rows_appended += static_cast<std::int64_t>(rows);
    if (cfg.metrics) {
      cfg.metrics->persist_flushes_total.fetch_add(1, std::memory_order_relaxed);
      cfg.metrics->persist_rows_total.fetch_add(static_cast<std::int64_t>(rows),
                                                std::memory_order_relaxed);
    }
    std::sort(written.begin(), written.end());
    for (auto& [id, p] : st.appends) {
      if (!std::binary_search(written.begin(), written.end(), id))
        lease_lost(self, cfg, id, p.owner);
      else if (p.owner)
        st.owned.emplace(id, p.owner);  // e.g. its claim failed while the database was down
    }
    st.appends.clear();
  }
  return done;
}

bool flush_finishes(self_ptr self, const writer_config& cfg) {
  auto& st = self->state;
  while (!st.finishes.empty()) {
    auto& f = st.finishes.front();
    bool written = false;
    auto& c = f.close;
    db::stream_end end{c.message_id, c.content, c.thinking,
                       c.tool_calls.empty() ? "[]" : c.tool_calls,
                       std::string(model::to_string(c.status)), c.error, c.result.model_id,
                       c.result.input_tokens, c.result.output_tokens};
    if (!attempt(self, cfg, "finish_failed", [&](db::pg_connection& conn) {
          written = db::finish_stream(conn, cfg.node, end);
        }))
      return false;
    shed_large_buffers(self, end.content.size() + end.thinking.size() + end.tool_calls.size());
    ++st.stats.finishes;
    if (cfg.metrics)
      cfg.metrics->persist_finishes_total.fetch_add(1, std::memory_order_relaxed);
    st.owned.erase(f.close.message_id);
    f.promise.deliver(written);
    st.finishes.pop_front();
  }
  return true;
}

// Whether orphaned answers are taken over (SPEC §12): only once someone continues them.
bool continuing(self_ptr self, const writer_config& cfg) {
  return cfg.continue_streams && self->state.observer;
}

// Hands each row taken over to the observer as a job that continues it. A row whose job cannot
// be built (the connection broke) is not renewed: its lease runs out and it is taken again.
void continue_taken(self_ptr self, const writer_config& cfg, db::pg_connection& conn,
                    const std::vector<db::taken_stream>& rows) {
  for (auto& row : rows) {
    job_spec spec;
    spec.message_id = row.message_id;
    spec.chat_id = row.chat_id;
    spec.history = db::chat_history(conn, row.chat_id, row.message_id, cfg.history_budget_chars);
    for (auto t = spec.history.rbegin(); t != spec.history.rend(); ++t)
      if (t->role == "user") {
        spec.question = t->content;
        break;
      }
    spec.model_id = row.model_id;
    spec.resumed = resumed_answer{row.content, row.thinking, row.tool_calls, row.continuations};
    log::warn("stream_writer", "stream_taken_over",
              {{"message_id", row.message_id}, {"node", cfg.node},
               {"continuations", row.continuations}, {"stored_bytes", row.content.size()}});
    if (cfg.metrics)
      cfg.metrics->takeovers_total.fetch_add(1, std::memory_order_relaxed);
    caf::anon_send(self->state.observer, continue_atom::value, std::move(spec));
  }
}

// Ends the orphaned rows `which` (see db::orphans) and logs each.
void close_orphans(db::pg_connection& conn, const writer_config& cfg, bool including_own,
                   db::orphans which) {
  const char* reason = which == db::orphans::ingest_only ? "producer lost" : "owner lost";
  for (auto id : db::close_orphans(conn, cfg.node, including_own, which))
    log::warn("stream_writer", "orphan_stream_closed", {{"message_id", id}, {"reason", reason}});
}

void flush_all(self_ptr self, const writer_config& cfg) {
  if (!flush_appends(self, cfg) || !flush_finishes(self, cfg))
    schedule_retry(self, cfg);
}

}  // namespace

stream_writer_actor::behavior_type stream_writer(self_ptr self, writer_config cfg) {
  self->send(self, sweep_atom::value, false);
  return {
    [=](caf::put_atom, caf::actor& observer) { self->state.observer = std::move(observer); },
    [=](claim_atom, std::int64_t id) -> caf::result<bool> {
      bool claimed = false;
      if (!attempt(self, cfg, "claim_failed", [&](db::pg_connection& conn) {
            claimed = db::claim_stream(conn, id, cfg.node, cfg.lease_seconds);
          }))
        return make_error(errc::database_unreachable, "database unreachable");
      if (claimed)
        self->state.owned[id] = caf::actor_cast<caf::actor>(self->current_sender());
      return claimed;
    },
    [=](append_atom, stream_delta& delta) {
      auto& st = self->state;
      auto [it, fresh] = st.appends.try_emplace(delta.message_id);
      if (fresh) {
        it->second = pending_append{std::move(delta),
                                    caf::actor_cast<caf::actor>(self->current_sender())};
      } else {  // still follows the first pending bases
        auto& d = it->second.delta;
        d.text += delta.text;
        d.thinking += delta.thinking;
        if (delta.tools_changed) {
          d.tools_changed = true;
          d.tool_status = std::move(delta.tool_status);
          d.tool_calls = std::move(delta.tool_calls);
        }
      }
      if (!st.flush_scheduled && !st.retry_scheduled) {
        st.flush_scheduled = true;
        self->send(self, write_atom::value);  // queued behind appends already waiting
      }
    },
    [=](write_atom) {
      self->state.flush_scheduled = false;
      if (!self->state.retry_scheduled)
        flush_all(self, cfg);
    },
    [=](retry_atom) {
      self->state.retry_scheduled = false;
      flush_all(self, cfg);
    },
    [=](finish_atom, stream_close& close) -> caf::result<bool> {
      auto& st = self->state;
      st.appends.erase(close.message_id);  // the final write carries the whole text
      auto rp = self->make_response_promise<bool>();
      st.finishes.push_back(pending_finish{std::move(close), rp});
      if (!st.retry_scheduled)
        flush_all(self, cfg);
      return rp;
    },
    [=](sweep_atom, bool including_own) {
      attempt(self, cfg, "sweep_failed", [&](db::pg_connection& conn) {
        std::vector<std::int64_t> ids;
        for (auto& [id, owner] : self->state.owned)
          ids.push_back(id);
        auto still = db::renew_leases(conn, cfg.node, cfg.lease_seconds, ids);
        std::sort(still.begin(), still.end());
        std::vector<std::pair<std::int64_t, caf::actor>> lost;
        for (auto& [id, owner] : self->state.owned)
          if (!std::binary_search(still.begin(), still.end(), id))
            lost.emplace_back(id, owner);
        for (auto& [id, owner] : lost)
          lease_lost(self, cfg, id, owner);
        // A lease that ran out while this node could not reach the database may have run out
        // for its owner too: others' rows are judged once this node has had the database for a
        // full lease, time enough for any owner that can to renew (SPEC §17).
        auto& up = self->state.up_since;
        if (!up || self->clock().now() - *up < std::chrono::seconds(cfg.lease_seconds))
          return;
        if (continuing(self, cfg)) {
          continue_taken(self, cfg, conn,
                         db::take_orphans(conn, cfg.node, cfg.lease_seconds, db::taking::expired));
          close_orphans(conn, cfg, including_own, db::orphans::ingest_only);
        } else if (!cfg.continue_streams) {
          close_orphans(conn, cfg, including_own, db::orphans::all);
        }  // else: orphans wait for the observer that continues them
      });
      self->delayed_send(self, cfg.lease_renew_interval, sweep_atom::value, false);
    },
    [=](adopt_atom) -> caf::result<std::int64_t> {
      std::int64_t taken = 0;
      if (!continuing(self, cfg))
        return taken;
      if (!attempt(self, cfg, "adopt_failed", [&](db::pg_connection& conn) {
            auto rows = db::take_orphans(conn, cfg.node, cfg.lease_seconds, db::taking::own);
            taken = static_cast<std::int64_t>(rows.size());
            continue_taken(self, cfg, conn, rows);
            close_orphans(conn, cfg, true, db::orphans::ingest_only);
          }))
        return make_error(errc::database_unreachable, "database unreachable");
      return taken;
    },
    [=](take_atom, const std::vector<std::int64_t>& ids) {
      if (!continuing(self, cfg) || ids.empty())
        return;
      attempt(self, cfg, "take_failed", [&](db::pg_connection& conn) {
        continue_taken(self, cfg, conn,
                       db::take_orphans(conn, cfg.node, cfg.lease_seconds, db::taking::expired, ids));
      });
    },
    [=](release_atom, stream_close& state) -> caf::result<bool> {
      auto& st = self->state;
      st.appends.erase(state.message_id);  // the release carries the whole text
      bool released = false;
      db::stream_end end;
      end.message_id = state.message_id;
      end.content = state.content;
      end.thinking = state.thinking;
      end.tool_calls = state.tool_calls.empty() ? "[]" : state.tool_calls;
      if (!attempt(self, cfg, "release_failed", [&](db::pg_connection& conn) {
            released = db::release_stream(conn, cfg.node, end);
          }))
        return make_error(errc::database_unreachable, "database unreachable");
      st.owned.erase(state.message_id);
      return released;
    },
    [=](sync_atom) -> caf::result<std::int64_t, std::int64_t> {
      if (!self->state.retry_scheduled)
        flush_all(self, cfg);  // answers reflect everything sent before the request
      auto& s = self->state.stats;
      return {s.append_statements, s.rows_appended};
    },
  };
}

}  // namespace actorcable::actors

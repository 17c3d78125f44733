// What the PostgreSQL-backed actor suites share: a fresh migrated database, an actor system and
// the real writer, whose start-up sweep has run before the test creates rows.
#pragma once
#include "actors/store/stream_writer.hpp"
#include "persistence/pg/pg_connection.hpp"
#include "test_database.hpp"

#include <caf/all.hpp>

#include <chrono>

namespace actorcable::testing {

struct writer_fixture {
  std::string conninfo = create_migrated_database();
  persistence::pg_connection conn{conninfo};
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  actors::stream_writer_actor writer =
    sys.spawn<caf::detached>(actors::stream_writer, actors::writer_config{conninfo, "node-a"});

  writer_fixture() { writer_stats(); }  // the start-up sweep has run: new rows stay open
  ~writer_fixture() { self->send_exit(writer, caf::exit_reason::user_shutdown); }

  // (append statements, rows appended), after the writer flushed what it was sent before.
  std::pair<std::int64_t, std::int64_t> writer_stats() {
    std::pair<std::int64_t, std::int64_t> out;
    self->request(writer, std::chrono::seconds(5), actors::sync_atom::value)
      .receive([&](std::int64_t s, std::int64_t r) { out = {s, r}; },
               [&](caf::error& err) { CAF_FAIL(caf::to_string(err)); });
    return out;
  }
};

}  // namespace actorcable::testing

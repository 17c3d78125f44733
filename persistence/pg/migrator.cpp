#include "persistence/pg/migrator.hpp"

#include <algorithm>
#include <set>

namespace actorcable::persistence {
namespace {
constexpr const char* lock_key = "4242061126";
}

std::vector<std::int64_t> migrate(pg_connection& conn, const std::vector<migration>& all) {
  // The lock comes first: two processes creating schema_migrations at once would collide.
  conn.exec("SELECT pg_advisory_lock($1::bigint)", {param(lock_key)});
  std::vector<std::int64_t> applied;
  try {
    conn.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version varchar PRIMARY KEY)");
    std::set<std::int64_t> done;
    auto res = conn.exec("SELECT version FROM schema_migrations");
    for (int i = 0; i < res.rows(); ++i)
      done.insert(std::stoll(res.text(i, 0)));
    auto sorted = all;
    std::sort(sorted.begin(), sorted.end(),
              [](auto& a, auto& b) { return a.version < b.version; });
    for (auto& m : sorted) {
      if (done.count(m.version))
        continue;
      conn.transaction([&] {
        // Simple-query protocol: a migration file may hold several statements.
        PGresult* r = PQexec(conn.native(), m.sql.c_str());
        auto st = PQresultStatus(r);
        std::string err = PQresultErrorMessage(r);
        PQclear(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
          throw pg_error("migration " + m.name + " failed: " + err, "", false);
        conn.exec("INSERT INTO schema_migrations (version) VALUES ($1)",
                  {param(std::to_string(m.version))});
      });
      applied.push_back(m.version);
    }
  } catch (...) {
    if (conn.healthy())
      conn.exec("SELECT pg_advisory_unlock($1::bigint)", {param(lock_key)});
    throw;
  }
  conn.exec("SELECT pg_advisory_unlock($1::bigint)", {param(lock_key)});
  return applied;
}

}  // namespace actorcable::persistence

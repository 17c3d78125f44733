// Migrations against real PostgreSQL: applied in order, recorded, idempotent.
#define CAF_SUITE migrations
#include "test_dsl.hpp"

#include "persistence/pg/migrator.hpp"
#include "test_database.hpp"

#include <cstdlib>
#include <filesystem>

using namespace actorcable::persistence;

CAF_TEST(applies every migration once and records it) {
  pg_connection conn(actorcable::testing::create_empty_database());
  auto first = migrate(conn);
  CAF_CHECK_EQUAL(first.size(), embedded_migrations().size());
  auto second = migrate(conn);
  CAF_CHECK_EQUAL(second.size(), 0u);
  auto recorded = conn.exec("SELECT count(*) FROM schema_migrations");
  CAF_CHECK_EQUAL(recorded.int64(0, 0), static_cast<std::int64_t>(first.size()));
  auto col = conn.exec("SELECT is_nullable, column_default FROM information_schema.columns "
                       "WHERE table_name = 'messages' AND column_name = 'streaming'");
  CAF_REQUIRE_EQUAL(col.rows(), 1);
  CAF_CHECK_EQUAL(col.text(0, 0), "NO");
  CAF_CHECK_EQUAL(col.text(0, 1), "false");
  auto trigger = conn.exec("SELECT 1 FROM pg_trigger WHERE tgname = 'memberships_access_changed'");
  CAF_CHECK_EQUAL(trigger.rows(), 1);
  if (const char* dir = std::getenv("MIGRATIONS_DIR")) {
    std::size_t files = 0;
    for (auto& entry : std::filesystem::directory_iterator(dir))
      files += entry.path().extension() == ".sql" ? 1 : 0;
    CAF_CHECK_EQUAL(embedded_migrations().size(), files);
  } else {
    CAF_FAIL("MIGRATIONS_DIR is not set");
  }
  auto idx = conn.exec("SELECT 1 FROM pg_indexes WHERE tablename = 'messages' "
                       "AND indexdef LIKE '%(streaming)%'");
  CAF_CHECK_EQUAL(idx.rows(), 1);
}

CAF_TEST(a failing migration leaves nothing behind) {
  pg_connection conn(actorcable::testing::create_empty_database());
  std::vector<migration> broken = {{1, "1_ok", "CREATE TABLE a (x int);"},
                                   {2, "2_bad", "CREATE TABLE b (x int); SELECT nope;"}};
  bool threw = false;
  try {
    migrate(conn, broken);
  } catch (const pg_error& e) {
    threw = std::string(e.what()).find("2_bad") != std::string::npos;
  }
  CAF_CHECK(threw);
  CAF_CHECK_EQUAL(conn.exec("SELECT 1 FROM pg_tables WHERE tablename = 'b'").rows(), 0);
  CAF_CHECK_EQUAL(conn.exec("SELECT 1 FROM schema_migrations WHERE version = '2'").rows(), 0);
  CAF_CHECK_EQUAL(conn.exec("SELECT 1 FROM schema_migrations WHERE version = '1'").rows(), 1);
}

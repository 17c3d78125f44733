#include "test_database.hpp"

#include "persistence/pg/migrator.hpp"
#include "persistence/pg/pg_connection.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <unistd.h>

namespace actorcable::testing {

std::string test_server_conninfo() {
  const char* base = std::getenv("ACTORCABLE_TEST_PG");
  if (!base || !*base)
    throw std::runtime_error("ACTORCABLE_TEST_PG is not set: run the tests through scripts/test");
  return std::string(base) + " dbname=postgres";
}

std::string create_empty_database() {
  static std::atomic<int> counter{0};
  auto name = "ac_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  persistence::pg_connection admin(test_server_conninfo());
  admin.exec("DROP DATABASE IF EXISTS " + persistence::quote_identifier(name));
  admin.exec("CREATE DATABASE " + persistence::quote_identifier(name));
  return std::string(std::getenv("ACTORCABLE_TEST_PG")) + " dbname=" + name;
}

std::string create_migrated_database() {
  auto conninfo = create_empty_database();
  persistence::pg_connection conn(conninfo);
  persistence::migrate(conn);
  return conninfo;
}

}  // namespace actorcable::testing

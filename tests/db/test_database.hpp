// A fresh, migrated database per test on the PostgreSQL that scripts/test started
// (ACTORCABLE_TEST_PG holds its key=value conninfo without dbname).
#pragma once
#include <string>

namespace actorcable::testing {

// Conninfo of the test server's maintenance database; fails the test when it is not set.
std::string test_server_conninfo();

// Creates an empty database with a unique name and returns its conninfo.
std::string create_empty_database();

// Creates a database and applies every migration.
std::string create_migrated_database();

}  // namespace actorcable::testing

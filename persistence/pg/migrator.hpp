// Rails-style versioned migrations recorded in schema_migrations.
#pragma once
#include "persistence/pg/pg_connection.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace actorcable::persistence {

struct migration {
  std::int64_t version;
  std::string name;
  std::string sql;
};

const std::vector<migration>& embedded_migrations();

// Applies every pending migration in version order, each in its own transaction, under an
// advisory lock so that nodes starting together do not race. Returns the versions applied.
std::vector<std::int64_t> migrate(pg_connection& conn,
                                  const std::vector<migration>& all = embedded_migrations());

}  // namespace actorcable::persistence

#include "persistence/nodes_repository.hpp"

namespace actorcable::persistence {

void heartbeat_node(pg_connection& conn, const std::string& name, const std::string& address) {
  conn.exec("INSERT INTO cluster_nodes (name, address) VALUES ($1, $2) "
            "ON CONFLICT (name) DO UPDATE SET address = EXCLUDED.address, heartbeat_at = now()",
            {param(name), param(address)});
}

std::vector<node_row> live_nodes(pg_connection& conn, const std::string& except, int lease_seconds) {
  auto r = conn.exec("SELECT name, address FROM cluster_nodes "
                     "WHERE name <> $1 AND heartbeat_at > now() - make_interval(secs => $2) "
                     "ORDER BY name",
                     {param(except), param(std::int64_t{lease_seconds})});
  std::vector<node_row> rows;
  for (int i = 0; i < r.rows(); ++i)
    rows.push_back({r.text(i, 0), r.text(i, 1)});
  return rows;
}

void remove_node(pg_connection& conn, const std::string& name) {
  conn.exec("DELETE FROM cluster_nodes WHERE name = $1", {param(name)});
}

}  // namespace actorcable::persistence

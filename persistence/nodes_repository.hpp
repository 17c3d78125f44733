// The cluster_nodes table: where nodes find each other (SPEC §12).
#pragma once
#include "persistence/pg/pg_connection.hpp"

#include <string>
#include <vector>

namespace actorcable::persistence {

struct node_row {
  std::string name;
  std::string address;  // host:port of its middleman
};

// Registers `name` at `address`, or renews its heartbeat (a restarted node may move).
void heartbeat_node(pg_connection& conn, const std::string& name, const std::string& address);

// The other nodes whose heartbeat is younger than `lease_seconds`, by name.
std::vector<node_row> live_nodes(pg_connection& conn, const std::string& except, int lease_seconds);

// A node stopping on purpose leaves the table at once rather than at the end of its lease.
void remove_node(pg_connection& conn, const std::string& name);

}  // namespace actorcable::persistence

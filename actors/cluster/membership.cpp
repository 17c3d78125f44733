#include "actors/cluster/membership.hpp"

#include "common/log.hpp"
#include "persistence/nodes_repository.hpp"

namespace actorcable::actors {

membership_state::~membership_state() = default;

namespace {

using self_ptr = membership_actor::stateful_pointer<membership_state>;

persistence::pg_connection& connection(self_ptr self, const membership_config& cfg) {
  auto& conn = self->state.conn;
  if (!conn || !conn->healthy())
    conn = std::make_unique<persistence::pg_connection>(cfg.conninfo);
  return *conn;
}

void beat(self_ptr self, const membership_config& cfg) {
  auto& st = self->state;
  try {
    auto& conn = connection(self, cfg);
    persistence::heartbeat_node(conn, cfg.node, cfg.address);
    std::vector<std::string> names, addresses;
    for (auto& n : persistence::live_nodes(conn, cfg.node, cfg.lease_seconds)) {
      names.push_back(std::move(n.name));
      addresses.push_back(std::move(n.address));
    }
    auto now = self->clock().now();
    if (!st.up_since)
      st.up_since = now;
    bool complete = now - *st.up_since >= std::chrono::seconds(cfg.lease_seconds);
    caf::anon_send(cfg.cluster, members_atom::value, std::move(names), std::move(addresses), complete);
    if (st.logged_failure)
      log::info("cluster", "membership_restored", {{"node", cfg.node}});
    st.logged_failure = false;
  } catch (const std::exception& e) {
    st.conn.reset();
    st.up_since.reset();
    // Peers stay as they are: a database outage is not a lost node.
    if (!st.logged_failure)
      log::warn("cluster", "membership_failed", {{"node", cfg.node}, {"error", e.what()}});
    st.logged_failure = true;
  }
}

}  // namespace

membership_actor::behavior_type membership(self_ptr self, membership_config cfg) {
  self->send(self, caf::tick_atom::value);
  return {
    [=](caf::tick_atom) {
      beat(self, cfg);
      self->delayed_send(self, cfg.interval, caf::tick_atom::value);
    },
    [=](leave_atom) -> bool {
      bool left = false;
      try {
        persistence::remove_node(connection(self, cfg), cfg.node);
        left = true;
      } catch (const std::exception& e) {
        log::warn("cluster", "leave_failed", {{"node", cfg.node}, {"error", e.what()}});
      }
      self->quit();
      return left;
    },
  };
}

}  // namespace actorcable::actors

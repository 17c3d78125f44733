// Every setting of `serve`, read once from the configuration into each module's own typed
// struct (whose default values are the ones conf/actorcable.ini documents: tests/unit/app).
#pragma once
#include "actors/cluster/cluster.hpp"
#include "actors/provider/launcher.hpp"
#include "actors/store/stream_writer.hpp"
#include "actors/stream/message_actor.hpp"
#include "app/cluster_tls.hpp"
#include "app/config.hpp"
#include "net/api/api.hpp"
#include "net/server.hpp"
#include "net/cable/session_store.hpp"

namespace actorcable::app {

struct serve_settings {
  std::string conninfo;  // database.url
  std::string secret;    // auth.secret
  std::string node;      // node.name, else the host name
  actors::writer_config writer;
  actors::message_actor_config streams;
  actors::provider_config provider;
  net::api_settings api;
  net::server_config server;
  std::size_t pool_size = 8;
  caf::timespan session_ttl = std::chrono::minutes(5);
  net::session_limits session_limits;
  std::chrono::seconds drain{10};
  std::string cluster_host;  // cluster.bind; empty: not published
  std::uint16_t cluster_port = 0;  // 0: a free port, found by peers through the membership table
  std::string cluster_advertise;   // cluster.advertise, else the bind host (or the host name)
  std::vector<actors::peer_address> peers;
  cluster_tls_files cluster_tls;  // none: plain TCP, on a loopback bind only
  int lease_seconds = 6;  // node.lease_s: also how long a silent node stays in the table
  caf::timespan takeover_wait = std::chrono::seconds(17);  // cluster_config::takeover_wait
  caf::timespan membership_interval = std::chrono::seconds(2);  // lease_s / 3
  bool clustered() const { return !cluster_host.empty() || !peers.empty(); }
};

// Reads and checks every setting (ranges included); throws config_error naming the key.
// Handles that exist only at run time (metrics, actors, groups) are left for `serve` to wire.
serve_settings read_serve_settings(const config& cfg);

}  // namespace actorcable::app

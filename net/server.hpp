// The HTTP + WebSocket server: one io_context per thread, connections pinned to one of them.
#pragma once
#include <caf/actor.hpp>
#include <caf/timespan.hpp>
#include <caf/fwd.hpp>
#include <caf/group.hpp>

#include "actors/broadcast/hub.hpp"
#include "actors/stream/directory_actor.hpp"
#include "net/cable/session_store.hpp"

#include <chrono>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace actorcable {
struct metrics;
}

namespace actorcable::persistence {
class pg_pool;
}

namespace actorcable::net {

class api;

struct server_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (start() returns it)
  std::size_t io_threads = 2;
  std::size_t db_threads = 4;
  std::size_t max_frame_bytes = 64 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t write_queue_limit = 1024 * 1024;  // past this backlog a client is too_slow
  std::chrono::seconds ping_interval{3};
  std::chrono::seconds header_timeout{10};  // a request's headers must arrive within this (slowloris)
  std::size_t max_subscriptions = 256;     // limits.subscriptions, per connection (0: none)
  std::size_t max_identifier_bytes = 1024;  // limits.identifier_bytes (0: none)
  std::size_t connections_per_user = 64;  // WebSocket connections per user on this node; 0: any
  const std::atomic<std::int64_t>* database_up = nullptr;  // /healthz answers 503 when 0
  double subscribe_rate = 50;  // per connection, sustained per second
  double subscribe_burst = 100;
  // A chunk goes to the idle connections of an I/O thread in one io_uring submission (where the
  // system allows io_uring; else, and when off, one write per connection).
  bool batched_sends = true;
  caf::group access_changes;  // revocations for every bridge
  actors::broadcast_hub_actor broadcasts;  // this node's broadcast hub (named streams, SPEC §11)
  session_store_actor sessions;  // for ?sid= restores
  std::string secret;
  // The key of outside producers (SPEC §11: /ingest/..., /_broadcast); empty: those answer 404.
  std::string ingest_key;
  caf::timespan idle_timeout = std::chrono::seconds(30);  // streams.idle_timeout_s: a silent producer is lost
  caf::timespan writer_timeout = std::chrono::seconds(30);  // a stream's final write
  // Origins whose pages may use the session cookie (SPEC §13); empty: the server's own address.
  std::vector<std::string> allowed_origins;
  std::string web_root = "build/web";  // directory of the web page's files; empty: no page
};

class server {
public:
  server(caf::actor_system& sys, server_config cfg, const api& api, persistence::pg_pool& pool,
         actors::directory_actor directory, actorcable::metrics& stats);
  ~server();

  // Binds and starts the I/O threads; returns the bound port. Throws on bind failure.
  std::uint16_t start();

  // Stops accepting and tells every WebSocket client server_restart (then closes them). The I/O
  // threads keep running for what is in flight.
  void begin_shutdown();

  // begin_shutdown() if not yet, then closes everything and joins the threads.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace actorcable::net

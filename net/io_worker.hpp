// One I/O thread with its own io_context (no strands needed: a connection lives on one thread)
// and the shared things every connection needs.
#pragma once
#include "common/log_throttle.hpp"
#include "common/metrics.hpp"
#include "net/api/api.hpp"
#include "net/cable/bridge_store.hpp"
#include "net/ws/connection_limiter.hpp"
#include "net/ws/io_tap.hpp"
#include "net/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <caf/actor_system.hpp>

#include <atomic>
#include <unordered_set>

namespace actorcable::net {

class ws_session;

struct net_context {
  caf::actor_system& sys;
  server_config cfg;
  const api& http_api;
  persistence::pg_pool& pool;
  std::shared_ptr<const bridge_store> store;  // every bridge's database lookups
  actors::directory_actor directory;
  boost::asio::thread_pool& db_workers;
  actorcable::metrics& stats;
  std::shared_ptr<connection_limiter> connections;
  log_throttle limited_log;  // refused upgrades, once per user per minute
};

struct io_worker {
  io_worker(actorcable::metrics& stats, bool batched_sends)
    : tap(std::make_shared<io_tap>(ioc, stats, batched_sends)) {}
  ~io_worker() { tap->shut(); }  // message actors may outlive the server

  boost::asio::io_context ioc{1};
  std::unordered_set<ws_session*> sessions;  // touched only on this worker's thread
  boost::asio::steady_timer ping_timer{ioc};
  std::shared_ptr<io_tap> tap;
  std::vector<char> read_buffer = std::vector<char>(64 * 1024);  // what connections read, parsed at once
  // Connections not yet destroyed. Their bridge actors may hold them past their end; the worker
  // (its io_context, whose services their socket and timers use) must outlive every one.
  std::atomic<std::size_t> alive{0};
};

// A connection's first member, so the last one released: counts it in its worker's `alive`.
struct worker_lease {
  explicit worker_lease(io_worker& w) : worker(w) { worker.alive.fetch_add(1, std::memory_order_relaxed); }
  ~worker_lease() { worker.alive.fetch_sub(1, std::memory_order_release); }
  worker_lease(const worker_lease&) = delete;
  worker_lease& operator=(const worker_lease&) = delete;
  io_worker& worker;
};

}  // namespace actorcable::net

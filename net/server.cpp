#include "net/server.hpp"

#include "common/log.hpp"
#include "net/http/http_session.hpp"
#include "net/ws/ws_session.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

namespace actorcable::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Sessions get until `deadline` to write their goodbye; then they are ended, and the actors that
// still hold them (bridges, a subscribe on its way to a message actor) get until `released_by` to
// let go, this thread running whatever they post meanwhile. The tap is shut first: an attach
// arriving late would otherwise park a session in it where nothing runs it.
void stop_when_drained(io_worker& w, std::chrono::steady_clock::time_point deadline,
                       std::chrono::steady_clock::time_point released_by) {
  auto now = std::chrono::steady_clock::now();
  if (w.sessions.empty() || now >= deadline) {
    for (auto* s : std::vector<ws_session*>(w.sessions.begin(), w.sessions.end()))
      s->finish();
    w.tap->shut();
    if (w.alive.load(std::memory_order_acquire) == 0 || now >= released_by) {
      w.ioc.stop();
      return;
    }
  }
  w.ping_timer.expires_after(std::chrono::milliseconds(20));
  w.ping_timer.async_wait([&w, deadline, released_by](boost::system::error_code) {
    stop_when_drained(w, deadline, released_by);
  });
}

}  // namespace

struct server::impl {
  impl(caf::actor_system& sys, server_config cfg, const api& a, persistence::pg_pool& pool,
       actors::directory_actor directory, actorcable::metrics& stats)
    : db_workers(cfg.db_threads),
      ctx{sys, cfg, a, pool, std::make_shared<const bridge_store>(pg_bridge_store(pool)),
          std::move(directory), db_workers, stats,
          std::make_shared<connection_limiter>(cfg.connections_per_user), {}} {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, cfg.io_threads); ++i)
      workers.push_back(std::make_unique<io_worker>(stats, cfg.batched_sends));
    acceptor.emplace(workers[0]->ioc);
    accept_timer.emplace(workers[0]->ioc);
  }

  void accept() {
    auto& target = *workers[next++ % workers.size()];
    acceptor->async_accept(target.ioc, [this, &target](boost::system::error_code ec, tcp::socket s) {
      if (ec) {
        if (ec != asio::error::operation_aborted)
          accept_failed(ec);
        return;
      }
      accept_backoff = std::chrono::milliseconds(0);
      s.set_option(tcp::no_delay(true));
      // The session starts on its own worker's thread.
      asio::post(target.ioc, [this, &target, s = std::move(s)]() mutable {
        start_http_session(std::move(s), target, ctx);
      });
      accept();
    });
  }

  // Out of descriptors (or memory) the same error comes back at once: wait before the next
  // try, longer while it lasts, and log the first failure of a run and then once a minute.
  void accept_failed(boost::system::error_code ec) {
    ctx.stats.accept_failures_total.fetch_add(1, std::memory_order_relaxed);
    auto now = std::chrono::steady_clock::now();
    ++accept_failures_unlogged;
    if (accept_backoff.count() == 0 || now - accept_logged_at >= std::chrono::minutes(1)) {
      log::warn("server", "accept_failed",
                {{"error", ec.message()}, {"failures", accept_failures_unlogged}});
      accept_logged_at = now;
      accept_failures_unlogged = 0;
    }
    accept_backoff = std::clamp(accept_backoff * 2, std::chrono::milliseconds(10),
                                std::chrono::milliseconds(1000));
    accept_timer->expires_after(accept_backoff);
    accept_timer->async_wait([this](boost::system::error_code ec) {
      if (!ec)
        accept();
    });
  }

  void schedule_ping(io_worker& w) {
    w.ping_timer.expires_after(ctx.cfg.ping_interval);
    w.ping_timer.async_wait([this, &w](boost::system::error_code ec) {
      if (ec)
        return;
      auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
      auto frame = make_frame(ping_frame(now));  // one buffer for every connection of this thread
      w.tap->write_all(std::vector<tap_connection*>(w.sessions.begin(), w.sessions.end()), frame);
      schedule_ping(w);
    });
  }

  asio::thread_pool db_workers;
  net_context ctx;
  std::vector<std::unique_ptr<io_worker>> workers;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_timer;
  std::chrono::milliseconds accept_backoff{0};
  std::chrono::steady_clock::time_point accept_logged_at{};
  std::int64_t accept_failures_unlogged = 0;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  std::size_t next = 0;
  bool running = false;
  bool shutting_down = false;
};

server::server(caf::actor_system& sys, server_config cfg, const api& a, persistence::pg_pool& pool,
               actors::directory_actor directory, actorcable::metrics& stats)
  : impl_(std::make_unique<impl>(sys, std::move(cfg), a, pool, std::move(directory), stats)) {}

server::~server() {
  stop();
}

std::uint16_t server::start() {
  auto& d = *impl_;
  tcp::endpoint ep(asio::ip::make_address(d.ctx.cfg.host), d.ctx.cfg.port);
  d.acceptor->open(ep.protocol());
  d.acceptor->set_option(asio::socket_base::reuse_address(true));
  d.acceptor->bind(ep);
  d.acceptor->listen(asio::socket_base::max_listen_connections);
  auto port = d.acceptor->local_endpoint().port();
  auto& origins = d.ctx.cfg.allowed_origins;
  if (origins.empty()) {  // the page's own address, as the browser names it
    auto& host = d.ctx.cfg.host;
    origins.push_back("http://" + host + ":" + std::to_string(port));
    if (host == "127.0.0.1" || host == "0.0.0.0")
      origins.push_back("http://localhost:" + std::to_string(port));
  }
  d.accept();
  for (auto& w : d.workers) {
    d.guards.push_back(asio::make_work_guard(w->ioc));
    d.schedule_ping(*w);
    d.threads.emplace_back([&ioc = w->ioc] { ioc.run(); });
  }
  d.running = true;
  return port;
}

void server::begin_shutdown() {
  auto& d = *impl_;
  if (!d.running || d.shutting_down)
    return;
  d.shutting_down = true;
  asio::post(d.workers[0]->ioc, [&d] {
    boost::system::error_code ignored;
    d.acceptor->close(ignored);
    d.accept_timer->cancel();
  });
  auto bye = make_frame(disconnect_frame("server_restart", true));
  for (auto& w : d.workers) {
    asio::post(w->ioc, [&w = *w, bye] {
      w.ping_timer.cancel();
      for (auto* s : std::vector<ws_session*>(w.sessions.begin(), w.sessions.end()))
        s->close_with(bye);
    });
  }
}

void server::stop() {
  auto& d = *impl_;
  if (!d.running)
    return;
  begin_shutdown();
  d.running = false;
  // Give clients up to two seconds to receive the goodbye, then stop what is still open. Actors
  // let go of a closed session within milliseconds; ten seconds is for a machine under load.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  auto released_by = deadline + std::chrono::seconds(10);
  for (auto& w : d.workers)
    asio::post(w->ioc, [&w = *w, deadline, released_by] { stop_when_drained(w, deadline, released_by); });
  // Only now: a thread with nothing left to do would return from run() without waiting for
  // the sessions that actors still hold (its worker would then be kept past stop).
  d.guards.clear();
  for (auto& t : d.threads)
    t.join();
  d.threads.clear();
  d.db_workers.join();
  for (auto& w : d.workers) {
    if (auto n = w->alive.load(std::memory_order_acquire); n > 0) {
      // Destroying the worker would pull its io_context from under these sessions.
      log::error("server", "sessions_outlived_stop", {{"sessions", n}});
      (void)w.release();
    }
  }
}

}  // namespace actorcable::net

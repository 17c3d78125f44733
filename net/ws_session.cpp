#include "net/ws_session.hpp"

#include "common/log.hpp"
#include "net/auth.hpp"
#include "net/cable_bridge.hpp"
#include "net/query_string.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace actorcable::net {
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;

namespace {

constexpr std::string_view plain_protocol = "actioncable-v1-json";
constexpr std::string_view ext_protocol = "actioncable-v1-ext-json";
constexpr std::string_view unsupported_protocol = "actioncable-unsupported";

// The subprotocol to answer with; empty when the client offered none.
std::string negotiate(std::string_view offered) {
  if (offered.empty())
    return "";
  bool plain = false, ext = false;
  std::size_t start = 0;
  while (start <= offered.size()) {
    auto end = offered.find(',', start);
    if (end == std::string_view::npos)
      end = offered.size();
    auto item = offered.substr(start, end - start);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    plain |= item == plain_protocol;
    ext |= item == ext_protocol;
    start = end + 1;
  }
  if (ext)
    return std::string(ext_protocol);
  if (plain)
    return std::string(plain_protocol);
  return std::string(unsupported_protocol);
}

// A session id doubles as the key to restore a session: unguessable, from the CSPRNG.
std::string random_id() {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw std::runtime_error("RAND_bytes failed");
  std::string out;
  for (auto b : bytes)
    out += alphabet[b % 62];
  return out;
}

bool expected_close(const beast::error_code& ec) {
  return ec == websocket::error::closed || ec == boost::asio::error::operation_aborted
         || ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset
         || ec == beast::error::timeout || ec == boost::asio::error::broken_pipe;
}

}  // namespace

ws_session::ws_session(beast::tcp_stream stream, io_worker& worker, net_context& ctx)
  : ws_(stream.release_socket()), worker_(worker), ctx_(ctx), queue_(ctx.cfg.write_queue_limit),
    id_(random_id()) {}

ws_session::~ws_session() {
  worker_.sessions.erase(this);
}

void ws_session::run(http::request<http::string_body> req) {
  protocol_ = negotiate(req[http::field::sec_websocket_protocol]);
  restore_sid_ = query_param(req.target(), "sid");
  if (restore_sid_.empty())
    restore_sid_ = std::string(req["X-ANYCABLE-RESTORE-SID"]);
  std::string token = query_param(req.target(), "jid");
  if (token.empty())
    token = std::string(req["X-JID"]);
  user_id_ = authenticate(ctx_.cfg.secret, token);
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws_.read_message_max(0);  // enforced in on_read, with a reason
  auto proto = protocol_;
  ws_.set_option(websocket::stream_base::decorator([proto](websocket::response_type& res) {
    res.set(http::field::server, "actorcable");
    if (!proto.empty())
      res.set(http::field::sec_websocket_protocol, proto);
  }));
  ws_.async_accept(req, beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
}

void ws_session::on_accept(beast::error_code ec) {
  if (ec) {
    log::warn("cable", "handshake_failed", {{"connection", id_}, {"error", ec.message()}});
    return;
  }
  worker_.sessions.insert(this);
  if (protocol_ == unsupported_protocol) {
    log::warn("cable", "unsupported_protocol", {{"connection", id_}});
    begin_close(nullptr);
    do_read();
    return;
  }
  if (!user_id_) {
    log::warn("cable", "unauthorized", {{"connection", id_}});
    begin_close(make_frame(disconnect_frame("unauthorized", false)));
    do_read();
    return;
  }
  bool extended = protocol_ == ext_protocol;
  bridge_config bcfg;
  bcfg.directory = ctx_.directory;
  bcfg.pool = &ctx_.pool;
  auto* workers = &ctx_.db_workers;
  bcfg.run_blocking = [workers](std::function<void()> fn) {
    boost::asio::post(*workers, std::move(fn));
  };
  bcfg.user_id = *user_id_;
  bcfg.extended = extended;
  bcfg.max_subscriptions = ctx_.cfg.max_subscriptions;
  bcfg.subscribe_rate = ctx_.cfg.subscribe_rate;
  bcfg.subscribe_burst = ctx_.cfg.subscribe_burst;
  bcfg.access_changes = ctx_.cfg.access_changes;
  bcfg.sessions = ctx_.cfg.sessions;
  bcfg.sid = id_;
  bcfg.restore_sid = restore_sid_;
  bcfg.connection_id = id_;
  bcfg.metrics = &ctx_.stats;
  ctx_.stats.connections.fetch_add(1, std::memory_order_relaxed);
  bridge_ = ctx_.sys.spawn(cable_bridge, std::static_pointer_cast<cable_socket>(shared_from_this()),
                           std::move(bcfg));
  log::debug("cable", "connected", {{"connection", id_}, {"user_id", *user_id_},
                                     {"protocol", protocol_}});
  do_read();
}

void ws_session::do_read() {
  // Frames are read in parts so that an oversized one is refused with our own close reason
  // (Beast's read_message_max would close with an empty one).
  ws_.async_read_some(buffer_, 16 * 1024,
                      beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
}

void ws_session::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    if (!expected_close(ec))
      log::warn("cable", "read_failed", {{"connection", id_}, {"error", ec.message()}});
    finish();
    return;
  }
  if (buffer_.size() > ctx_.cfg.max_frame_bytes) {
    log::warn("cable", "frame_too_big", {{"connection", id_}, {"limit", ctx_.cfg.max_frame_bytes}});
    buffer_.consume(buffer_.size());
    closing_ = true;
    drop_backlog();
    websocket::close_reason reason(websocket::close_code::too_big,
                                   "frame exceeds " + std::to_string(ctx_.cfg.max_frame_bytes)
                                     + " bytes");
    ws_.async_close(reason, [self = shared_from_this()](beast::error_code) { self->finish(); });
    return;
  }
  if (!ws_.is_message_done()) {
    do_read();
    return;
  }
  if (!bridge_ || closing_) {
    buffer_.consume(buffer_.size());
    do_read();
    return;
  }
  if (!ws_.got_text()) {
    log::warn("cable", "binary_frame", {{"connection", id_}});
    begin_close(make_frame(disconnect_frame("invalid_request", false)));
    buffer_.consume(buffer_.size());
    do_read();
    return;
  }
  caf::anon_send(bridge_, text_atom::value, beast::buffers_to_string(buffer_.data()));
  buffer_.consume(buffer_.size());
  do_read();
}

void ws_session::send(frame_ptr frame) {
  // The io_context's own executor, not the stream's type-erased one: no executor copies per frame.
  boost::asio::post(worker_.ioc, [self = shared_from_this(), f = std::move(frame)]() mutable {
    self->enqueue(std::move(f));
  });
}

void ws_session::send_update(frame_ptr frame, actors::stream_event_ptr update) {
  boost::asio::post(worker_.ioc, [self = shared_from_this(), f = std::move(frame),
                                  u = std::move(update)]() mutable {
    self->enqueue(std::move(f), std::move(u));
  });
}

void ws_session::close_with(frame_ptr last_frame) {
  boost::asio::post(worker_.ioc, [self = shared_from_this(), f = std::move(last_frame)]() mutable {
    self->begin_close(std::move(f));
  });
}

std::shared_ptr<actors::tap_port> ws_session::port() {
  return shared_from_this();
}

std::shared_ptr<actors::stream_tap> ws_session::tap() {
  return worker_.tap;
}

void ws_session::attach(std::int64_t message_id, const std::string& identifier,
                        std::vector<actors::stream_event_ptr> catchup) {
  boost::asio::post(worker_.ioc, [self = shared_from_this(), message_id, identifier,
                                  catchup = std::move(catchup)] {
    if (self->finished_)
      return;
    auto& tap = *self->worker_.tap;
    bool extended = self->protocol_ == ext_protocol;
    for (auto& ev : catchup)
      tap.write(*self, identifier, extended, ev);
    auto key = std::make_pair(message_id, identifier);
    auto& routes = self->attached_;
    if (std::find(routes.begin(), routes.end(), key) == routes.end()) {
      routes.push_back(std::move(key));
      tap.add(message_id, self.get(), identifier, extended);
    }
  });
}

void ws_session::detach(std::int64_t message_id, const std::string& identifier) {
  boost::asio::post(worker_.ioc, [self = shared_from_this(), message_id, identifier] {
    auto& routes = self->attached_;
    auto key = std::make_pair(message_id, identifier);
    if (auto i = std::find(routes.begin(), routes.end(), key); i != routes.end()) {
      routes.erase(i);
      self->worker_.tap->remove(message_id, self.get(), identifier);
    }
  });
}

void ws_session::enqueue(frame_ptr frame, actors::stream_event_ptr update) {
  if (closing_ || finished_)
    return;
  switch (queue_.push(std::move(frame), std::move(update))) {
    case write_queue::result::over_limit:
      log::warn("cable", "too_slow", {{"connection", id_}, {"queued_bytes", queue_.bytes()}});
      ctx_.stats.slow_disconnects_total.fetch_add(1, std::memory_order_relaxed);
      drop_backlog();
      begin_close(make_frame(disconnect_frame("too_slow", true)));
      return;
    case write_queue::result::merged:
      ctx_.stats.updates_merged_total.fetch_add(1, std::memory_order_relaxed);
      return;  // a write is under way: nothing to start
    case write_queue::result::queued:
      break;
  }
  if (!queue_.writing())
    do_write();
}

void ws_session::drop_backlog() {
  queue_.drop_waiting();
}

void ws_session::do_write() {
  ws_.text(true);
  ws_.async_write(boost::asio::buffer(queue_.start_write()),
                  beast::bind_front_handler(&ws_session::on_write, shared_from_this()));
}

void ws_session::on_write(beast::error_code ec, std::size_t) {
  queue_.finish_write();
  if (ec) {
    if (!expected_close(ec))
      log::warn("cable", "write_failed", {{"connection", id_}, {"error", ec.message()}});
    queue_.clear();
    return;  // the pending read fails too and finishes the session
  }
  if (!queue_.empty()) {
    do_write();
    return;
  }
  if (closing_ && !finished_ && ws_.is_open())
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](beast::error_code) { self->finish(); });
}

void ws_session::begin_close(frame_ptr last_frame) {
  if (closing_ || finished_)
    return;
  if (last_frame)
    queue_.push_unbounded(std::move(last_frame));
  closing_ = true;
  if (!queue_.writing()) {
    if (!queue_.empty())
      do_write();
    else if (ws_.is_open())
      ws_.async_close(websocket::close_code::normal,
                      [self = shared_from_this()](beast::error_code) { self->finish(); });
  }
}

void ws_session::finish() {
  if (finished_)
    return;
  finished_ = true;
  closing_ = true;
  worker_.sessions.erase(this);
  for (auto& [mid, identifier] : attached_)
    worker_.tap->remove(mid, this, identifier);
  attached_.clear();
  if (bridge_) {
    ctx_.stats.connections.fetch_sub(1, std::memory_order_relaxed);
    caf::anon_send(bridge_, closed_atom::value);
    bridge_ = nullptr;
  }
  log::debug("cable", "disconnected", {{"connection", id_}});
}

}  // namespace actorcable::net

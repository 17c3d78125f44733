#include "net/ws/ws_session.hpp"

#include "net/ws/handshake.hpp"
#include "net/ws/socket_errors.hpp"

#include "common/log.hpp"
#include "net/cable/cable_bridge.hpp"
#include "net/http/query_string.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <array>

namespace actorcable::net {
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;

namespace {

constexpr int max_reads_per_turn = 16;

}  // namespace

ws_session::ws_session(beast::tcp_stream stream, io_worker& worker, net_context& ctx)
  : lease_(worker), worker_(worker), handshake_(std::in_place, stream.release_socket()),
    socket_(worker.ioc), ctx_(ctx), reader_(ctx.cfg.max_frame_bytes),
    queue_(ctx.cfg.write_queue_limit),
    id_(random_id()) {}

ws_session::~ws_session() {
  worker_.sessions.erase(this);
}

void ws_session::run(http::request<http::string_body> req, std::string early,
                     std::optional<std::int64_t> user, std::optional<connection_limiter::slot> slot) {
  early_ = std::move(early);
  user_id_ = user;
  slot_ = std::move(slot);
  protocol_ = negotiate(req[http::field::sec_websocket_protocol]);
  restore_sid_ = query_param(req.target(), "sid");
  if (restore_sid_.empty())
    restore_sid_ = std::string(req["X-ANYCABLE-RESTORE-SID"]);
  // Beast's timer covers the handshake only: after it, Beast does no I/O on this socket.
  handshake_->set_option(websocket::stream_base::timeout{std::chrono::seconds(30),
                                                 websocket::stream_base::none(), false});
  auto proto = protocol_;
  handshake_->set_option(websocket::stream_base::decorator([proto](websocket::response_type& res) {
    res.set(http::field::server, "actorcable");
    if (!proto.empty())
      res.set(http::field::sec_websocket_protocol, proto);
  }));
  handshake_->async_accept(req, beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
}

void ws_session::on_accept(beast::error_code ec) {
  if (ec) {
    log::warn("cable", "handshake_failed", {{"connection", id_}, {"error", ec.message()}});
    return;
  }
  // The accept's completion holds Beast's stream state until this returns: dropping it is safe.
  socket_ = std::move(handshake_->next_layer());
  handshake_.reset();
  worker_.sessions.insert(this);
  beast::error_code ignored;
  socket_.non_blocking(true, ignored);  // frames are written at once when the socket takes them
  if (protocol_ == unsupported_protocol) {
    log::warn("cable", "unsupported_protocol", {{"connection", id_}});
    begin_close(nullptr);
    start_reading();
    return;
  }
  if (!user_id_) {
    log::warn("cable", "unauthorized", {{"connection", id_}});
    begin_close(make_frame(disconnect_frame("unauthorized", false)));
    start_reading();
    return;
  }
  bool extended = protocol_ == ext_protocol;
  bridge_config bcfg;
  bcfg.directory = ctx_.directory;
  bcfg.store = ctx_.store;
  auto* workers = &ctx_.db_workers;
  bcfg.run_blocking = [workers](std::function<void()> fn) {
    boost::asio::post(*workers, std::move(fn));
  };
  bcfg.user_id = *user_id_;
  bcfg.extended = extended;
  bcfg.max_subscriptions = ctx_.cfg.max_subscriptions;
  bcfg.max_identifier_bytes = ctx_.cfg.max_identifier_bytes;
  bcfg.subscribe_rate = ctx_.cfg.subscribe_rate;
  bcfg.subscribe_burst = ctx_.cfg.subscribe_burst;
  bcfg.access_changes = ctx_.cfg.access_changes;
  bcfg.broadcasts = ctx_.cfg.broadcasts;
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
  start_reading();
}

void ws_session::start_reading() {
  if (!early_.empty()) {
    std::vector<ws_reader::message> messages;
    auto early = std::move(early_);
    early_.clear();
    if (!take(early, messages))
      return;
  }
  do_read();
}

void ws_session::do_read() {
  // Waits for bytes without a buffer of its own: an idle connection holds none, and what
  // arrives is read into the thread's buffer.
  socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
    self->on_readable(ec);
  });
}

void ws_session::on_readable(beast::error_code ec) {
  if (finished_)
    return;
  if (ec) {
    on_read_failed(ec);
    return;
  }
  auto& buffer = worker_.read_buffer;
  std::vector<ws_reader::message> messages;
  // A client that sends at wire speed gets a bounded turn, then waits behind the thread's other
  // connections like everyone else.
  for (int reads = 0; reads < max_reads_per_turn; ++reads) {
    auto n = socket().read_some(boost::asio::buffer(buffer), ec);
    if (would_block(ec))
      break;
    if (ec) {
      on_read_failed(ec);
      return;
    }
    if (!take(std::string_view(buffer.data(), n), messages))
      return;
    if (n < buffer.size())
      break;
  }
  do_read();
}

bool ws_session::take(std::string_view bytes, std::vector<ws_reader::message>& messages) {
  if (reader_.failed())
    return true;  // closing after a protocol error: what the client still sends is dropped
  if (!reader_.feed(bytes, messages)) {
    auto& e = reader_.error();
    log::warn("cable", e.code == ws_close::too_big ? "frame_too_big" : "protocol_error",
              {{"connection", id_}, {"reason", e.reason}});
  }
  for (auto& m : messages) {
    on_message(m);
    if (finished_)
      return false;
  }
  messages.clear();
  if (reader_.failed()) {
    closing_ = true;
    drop_backlog();
    send_close(reader_.error().code, reader_.error().reason);
  }
  return true;
}

void ws_session::on_message(ws_reader::message& m) {
  switch (m.type) {
    case ws_opcode::text:
      if (bridge_ && !closing_)
        caf::anon_send(bridge_, text_atom::value, std::move(m.payload));
      return;
    case ws_opcode::binary:
      if (bridge_ && !closing_) {
        log::warn("cable", "binary_frame", {{"connection", id_}});
        begin_close(make_frame(disconnect_frame("invalid_request", false)));
      }
      return;
    case ws_opcode::ping:
      if (close_sent_)
        return;
      // Pongs count against the write queue's limit: a client that pings and never reads is
      // cut like any other that falls behind.
      if (queue_.waiting_bytes() + m.payload.size() > ctx_.cfg.write_queue_limit) {
        too_slow();
        return;
      }
      queue_.push_unbounded(make_frame(std::move(m.payload)), ws_opcode::pong);
      if (!write_waiting_)
        do_write();
      return;
    case ws_opcode::close:
      peer_closed_ = true;
      if (close_sent_) {
        finish();  // the client answered our close
        return;
      }
      closing_ = true;
      drop_backlog();
      send_close(m.close_code ? m.close_code : ws_close::normal, {});
      return;
    default:
      return;  // pong
  }
}

void ws_session::send(frame_ptr frame) {
  // The io_context's own executor, not the stream's type-erased one: no executor copies per frame.
  boost::asio::post(worker_.ioc, [self = shared_from_this(), f = std::move(frame)]() {
    self->enqueue(f);
  });
}

void ws_session::send_update(frame_ptr frame, actors::stream_event_ptr update) {
  boost::asio::post(worker_.ioc, [self = shared_from_this(), f = std::move(frame),
                                  u = std::move(update)]() {
    self->enqueue(f, u);
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
  // Through the tap, in order with the message's events: the catch-up covers what was
  // delivered before it, the route takes what comes after.
  worker_.tap->run_in_order(message_id, [self = shared_from_this(), message_id, identifier,
                                         catchup = std::move(catchup)] {
    if (self->finished_)
      return;
    auto& tap = *self->worker_.tap;
    bool extended = self->protocol_ == ext_protocol;
    self->cork();  // a replay goes out in gathered writes
    for (auto& ev : catchup)
      tap.write(*self, identifier, extended, ev);
    self->uncork();
    if (self->finished_)
      return;  // a write failed
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

void ws_session::on_read_failed(beast::error_code ec) {
  if (!expected_close(ec))
    log::warn("cable", "read_failed", {{"connection", id_}, {"error", ec.message()}});
  finish();
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
  if (close_timer_)
    close_timer_->cancel();
  beast::error_code ignored;
  socket().close(ignored);  // ends the waits that hold this session
  if (bridge_) {
    ctx_.stats.connections.fetch_sub(1, std::memory_order_relaxed);
    caf::anon_send(bridge_, closed_atom::value);
    bridge_ = nullptr;
  }
  log::debug("cable", "disconnected", {{"connection", id_}});
}

}  // namespace actorcable::net

// The writing half of a WebSocket session: frames go out at once when the socket takes them,
// queue (bounded, merging) when it does not, and the close handshake with its grace.
#include "net/ws/ws_session.hpp"

#include "common/log.hpp"
#include "net/ws/socket_errors.hpp"

#include <boost/asio/post.hpp>

namespace actorcable::net {
namespace beast = boost::beast;

namespace {

// After our close frame is queued, the client has this long to take it and answer.
constexpr auto close_grace = std::chrono::seconds(5);

}  // namespace

void ws_session::enqueue(const frame_ptr& frame, const actors::stream_event_ptr& update) {
  if (closing_ || finished_)
    return;
  if (writable_now()) {
    // Nothing waiting: straight to the socket, the queue only takes what the socket did not.
    std::array<unsigned char, 10> header;
    auto header_len = ws_header(header, ws_opcode::text, frame->size());
    std::array<boost::asio::const_buffer, 2> bufs{boost::asio::buffer(header.data(), header_len),
                                                  boost::asio::buffer(*frame)};
    beast::error_code ec;
    auto n = socket().write_some(bufs, ec);
    if (!ec && n == header_len + frame->size())
      return;
    if (ec && !would_block(ec)) {
      on_write_failed(ec);
      return;
    }
    queue_.push_front_started(frame, ec ? 0 : n);
    do_write();
    return;
  }
  switch (queue_.push(frame, update)) {
    case write_queue::result::over_limit:
      too_slow();
      return;
    case write_queue::result::merged:
      ctx_.stats.updates_merged_total.fetch_add(1, std::memory_order_relaxed);
      return;  // a write is under way: nothing to start
    case write_queue::result::queued:
      break;
  }
  if (!write_waiting_ && !corked_)
    do_write();
}

int ws_session::claim_socket() {
  if (closing_ || finished_ || !writable_now())
    return -1;
  in_flight_ = true;
  return socket().native_handle();
}

void ws_session::sent(const frame_ptr& frame, long result) {
  in_flight_ = false;
  if (finished_)
    return;
  std::array<unsigned char, 10> header;
  auto whole = static_cast<long>(ws_header(header, ws_opcode::text, frame->size()) + frame->size());
  if (result == whole) {
    do_write();  // whatever queued behind it meanwhile
    return;
  }
  if (result >= 0 || result == -EAGAIN || result == -EWOULDBLOCK) {
    // The rest goes out first, as if this session had written the frame itself.
    queue_.push_front_started(frame, result > 0 ? static_cast<std::size_t>(result) : 0);
    do_write();
    return;
  }
  on_write_failed(beast::error_code(static_cast<int>(-result), boost::system::system_category()));
}

void ws_session::cork() {
  corked_ = true;
}

void ws_session::uncork() {
  corked_ = false;
  if (!finished_ && !write_waiting_ && !queue_.empty())
    do_write();
}

void ws_session::too_slow() {
  log::warn("cable", "too_slow", {{"connection", id_}, {"queued_bytes", queue_.bytes()}});
  ctx_.stats.slow_disconnects_total.fetch_add(1, std::memory_order_relaxed);
  drop_backlog();
  begin_close(make_frame(disconnect_frame("too_slow", true)));
}

void ws_session::drop_backlog() {
  queue_.drop_waiting();
}

void ws_session::do_write() {
  if (in_flight_ || corked_ || write_waiting_)
    return;  // the batch's result, uncork() or the socket's readiness writes the queue
  auto& sock = socket();
  while (!queue_.empty()) {
    write_buffers_.clear();
    queue_.gather(write_buffers_, 32);
    beast::error_code ec;
    auto n = sock.write_some(write_buffers_, ec);
    if (would_block(ec)) {
      write_waiting_ = true;
      sock.async_wait(tcp::socket::wait_write, [self = shared_from_this()](beast::error_code ec) {
        self->write_waiting_ = false;
        if (self->finished_)
          return;
        if (ec)
          self->on_write_failed(ec);
        else
          self->do_write();
      });
      return;
    }
    if (ec) {
      on_write_failed(ec);
      return;
    }
    queue_.consume(n);
  }
  if (!close_sent_ || finished_)
    return;
  if (peer_closed_)
    finish();  // our answer to the client's close is out
}

void ws_session::on_write_failed(beast::error_code ec) {
  if (!expected_close(ec))
    log::warn("cable", "write_failed", {{"connection", id_}, {"error", ec.message()}});
  queue_.clear();
  finish();
}

void ws_session::send_close(std::uint16_t code, std::string_view reason) {
  if (close_sent_)
    return;
  close_sent_ = true;
  queue_.push_unbounded(make_frame(ws_close_payload(code, reason)), ws_opcode::close);
  // The client takes what is queued and answers, or hangs up, or is cut off after the grace,
  // whether or not it ever read: its descriptor and bridge do not outlive it.
  close_timer_.emplace(worker_.ioc);
  close_timer_->expires_after(close_grace);
  close_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec)
      self->finish();
  });
  if (!write_waiting_)
    do_write();
}

void ws_session::begin_close(frame_ptr last_frame) {
  if (closing_ || finished_)
    return;
  closing_ = true;
  if (last_frame)
    queue_.push_unbounded(std::move(last_frame));
  send_close(ws_close::normal, {});
}

}  // namespace actorcable::net

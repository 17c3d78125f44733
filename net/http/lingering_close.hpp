// Ending an HTTP connection whose request body may not have been read to its end (a 413, a
// producer still sending): half-close, then read and discard what the client still sends until it
// closes too (at most 5 s or 64 MiB), so that closing does not reset the connection under the reply.
#pragma once
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <array>
#include <chrono>
#include <memory>

namespace actorcable::net {

namespace detail {
struct drain_state {
  std::array<char, 8192> scratch;
  std::size_t drained = 0;
};

template <class Session>
void drain(boost::beast::tcp_stream& stream, std::shared_ptr<drain_state> st,
           std::shared_ptr<Session> session) {
  stream.async_read_some(boost::asio::buffer(st->scratch),
                         [&stream, st, session](boost::beast::error_code ec, std::size_t n) {
                           st->drained += n;
                           if (!ec && st->drained < 64 * 1024 * 1024)
                             drain(stream, st, session);
                         });
}
}  // namespace detail

// `session` owns `stream` and is kept alive until the drain ends.
template <class Session>
void lingering_close(boost::beast::tcp_stream& stream, std::shared_ptr<Session> session) {
  boost::beast::error_code ignored;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::seconds(5));
  detail::drain(stream, std::make_shared<detail::drain_state>(), std::move(session));
}

}  // namespace actorcable::net

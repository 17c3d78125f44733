// How a session reads the errors of its non-blocking socket.
#pragma once
#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/websocket/error.hpp>

namespace actorcable::net {

// A non-blocking socket that has nothing to give or no room to take.
inline bool would_block(const boost::beast::error_code& ec) {
  return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
}

// The peer went away or the session closed it: not worth a warning.
inline bool expected_close(const boost::beast::error_code& ec) {
  return ec == boost::beast::websocket::error::closed || ec == boost::asio::error::operation_aborted
         || ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset
         || ec == boost::beast::error::timeout || ec == boost::asio::error::broken_pipe;
}

}  // namespace actorcable::net

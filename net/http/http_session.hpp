// One HTTP connection: reads requests (bounded), answers the API on the database workers,
// hands WebSocket upgrades of /cable to a ws_session.
#pragma once
#include "net/io_worker.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <memory>

namespace actorcable::net {

void start_http_session(boost::asio::ip::tcp::socket socket, io_worker& worker, net_context& ctx);

}  // namespace actorcable::net

// One WebSocket connection speaking ActionCable: a bounded write queue on its I/O thread and a
// bridge actor that holds the protocol state.
#pragma once
#include "net/cable_socket.hpp"
#include "net/io_worker.hpp"
#include "net/write_queue.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>


namespace actorcable::net {

class ws_session : public cable_socket,
                   public actors::tap_port,
                   public std::enable_shared_from_this<ws_session> {
public:
  ws_session(boost::beast::tcp_stream stream, io_worker& worker, net_context& ctx);
  ~ws_session() override;

  void run(boost::beast::http::request<boost::beast::http::string_body> req);

  void send(frame_ptr frame) override;
  void send_update(frame_ptr frame, actors::stream_event_ptr update) override;
  void close_with(frame_ptr last_frame) override;
  std::shared_ptr<actors::tap_port> port() override;
  void detach(std::int64_t message_id, const std::string& identifier) override;
  std::shared_ptr<actors::stream_tap> tap() override;
  void attach(std::int64_t message_id, const std::string& identifier,
              std::vector<actors::stream_event_ptr> catchup) override;

  // On the worker's thread only.
  void enqueue(frame_ptr frame, actors::stream_event_ptr update = nullptr);
  // Ends the session without a close handshake (shutdown past its deadline).
  void finish();

private:
  void on_accept(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void do_write();
  void drop_backlog();
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  void begin_close(frame_ptr last_frame);

  // A plain socket under the WebSocket layer: Beast's own timeouts cover the handshake and idle
  // peers, and a frame write costs no timer bookkeeping or type-erased executor copies.
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  boost::beast::flat_buffer buffer_;
  io_worker& worker_;
  net_context& ctx_;
  write_queue queue_;
  bool closing_ = false;  // no more frames accepted; close once the queue is written
  bool finished_ = false;
  std::string protocol_;
  std::optional<std::int64_t> user_id_;
  std::string id_;  // also the session id of the extended protocol
  std::string restore_sid_;
  caf::actor bridge_;
  std::vector<std::pair<std::int64_t, std::string>> attached_;  // routes in worker_.tap
};

}  // namespace actorcable::net

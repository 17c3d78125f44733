// One WebSocket connection speaking ActionCable: a bounded write queue on its I/O thread and a
// bridge actor that holds the protocol state.
#pragma once
#include "net/cable/cable_socket.hpp"
#include "net/io_worker.hpp"
#include "net/ws/write_queue.hpp"
#include "net/ws/ws_frames.hpp"

#include <boost/asio/steady_timer.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>


namespace actorcable::net {

class ws_session : public cable_socket,
                   public actors::tap_port,
                   public tap_connection,
                   public std::enable_shared_from_this<ws_session> {
public:
  ws_session(boost::beast::tcp_stream stream, io_worker& worker, net_context& ctx);
  ~ws_session() override;

  // `early`: bytes that arrived behind the upgrade request (the first frames); `user`: who the
  // request signed in as (none: refused after the handshake); `slot`: the user's connection slot.
  void run(boost::beast::http::request<boost::beast::http::string_body> req, std::string early,
           std::optional<std::int64_t> user, std::optional<connection_limiter::slot> slot);

  void send(frame_ptr frame) override;
  void send_update(frame_ptr frame, actors::stream_event_ptr update) override;
  void close_with(frame_ptr last_frame) override;
  std::shared_ptr<actors::tap_port> port() override;
  void detach(std::int64_t message_id, const std::string& identifier) override;
  std::shared_ptr<actors::stream_tap> tap() override;
  void attach(std::int64_t message_id, const std::string& identifier,
              std::vector<actors::stream_event_ptr> catchup) override;

  // On the worker's thread only. By reference: a frame written at once is not copied, so
  // threads sharing it do not contend on its reference count.
  void enqueue(const frame_ptr& frame, const actors::stream_event_ptr& update = {}) override;
  // Between cork() and uncork() frames only queue; uncork() writes them in gathered writes
  // (a batch of events costs a few syscalls, not one per frame). On the worker's thread only.
  void cork() override;
  void uncork() override;
  int claim_socket() override;
  void sent(const frame_ptr& frame, long result) override;
  // Ends the session without a close handshake (shutdown past its deadline).
  void finish();

private:
  using tcp = boost::asio::ip::tcp;
  tcp::socket& socket() { return handshake_ ? handshake_->next_layer() : socket_; }
  void on_accept(boost::beast::error_code ec);
  void start_reading();
  void do_read();
  bool take(std::string_view bytes, std::vector<ws_reader::message>& messages);
  void on_readable(boost::beast::error_code ec);
  void on_message(ws_reader::message& m);
  void on_read_failed(boost::beast::error_code ec);
  void do_write();
  // Nothing queued, being written, held back or in the thread's batch: a frame may go straight
  // to the socket.
  bool writable_now() const { return queue_.empty() && !write_waiting_ && !corked_ && !in_flight_; }
  void on_write_failed(boost::beast::error_code ec);
  void too_slow();
  void drop_backlog();
  void send_close(std::uint16_t code, std::string_view reason);
  void begin_close(frame_ptr last_frame);

  worker_lease lease_;
  io_worker& worker_;
  // Beast does the handshake; after it the session reads and writes frames itself on the
  // non-blocking socket (net/ws_frames.hpp), and Beast's stream (about 2 KiB with its read
  // buffer and timer) is dropped: an idle connection keeps only the socket.
  std::optional<boost::beast::websocket::stream<tcp::socket>> handshake_;
  tcp::socket socket_;
  net_context& ctx_;
  ws_reader reader_;
  write_queue queue_;
  std::vector<boost::asio::const_buffer> write_buffers_;
  std::optional<boost::asio::steady_timer> close_timer_;
  bool write_waiting_ = false;
  bool corked_ = false;  // frames only queue until uncork()
  bool in_flight_ = false;  // a frame is in the thread's batch of sends: nothing else is written
  bool closing_ = false;        // no more frames accepted; close once the queue is written
  bool close_sent_ = false;     // our close frame is queued
  bool peer_closed_ = false;    // the client's close frame arrived
  bool finished_ = false;
  std::string early_;  // read with the handshake, parsed once it is done
  std::string protocol_;
  std::optional<std::int64_t> user_id_;
  std::optional<connection_limiter::slot> slot_;
  std::string id_;  // also the session id of the extended protocol
  std::string restore_sid_;
  caf::actor bridge_;
  std::vector<std::pair<std::int64_t, std::string>> attached_;
  std::array<unsigned char, 10> header_{};
  std::size_t header_len_ = 0;
  std::size_t written_ = 0;  // routes in worker_.tap
};

}  // namespace actorcable::net

// The frames waiting to be written to one WebSocket connection, bounded in bytes (SPEC §5 slow
// clients), written in gathered writes that may stop anywhere (a non-blocking socket takes what
// fits). A plain-protocol streaming_update queued behind another of the same message and
// identifier is merged into it while neither has been handed to a write: the client gets one
// frame with both chunks, the text stays exact. The limit counts what waits behind the frame at
// the front: that one is on its way whatever its size, so a catch-up larger than the limit
// (current_state of a long answer) is delivered, and only a client that falls behind it is cut.
#pragma once
#include "actors/protocol.hpp"
#include "net/cable/cable_socket.hpp"
#include "net/ws/ws_frames.hpp"

#include <boost/asio/buffer.hpp>

#include <vector>

namespace actorcable::net {

class write_queue {
public:
  explicit write_queue(std::size_t limit_bytes) : limit_(limit_bytes) {}

  enum class result { queued, merged, over_limit };
  // Queues a text frame; `update` (optional) is the plain streaming_update it carries, which
  // later updates may merge into. Over the limit nothing is queued.
  result push(frame_ptr frame, actors::stream_event_ptr update = nullptr);
  // Puts a text frame of which the socket took `written` bytes (header included) in front of
  // what is queued (a batched send's rest: the frames queued behind it meanwhile wait for it);
  // not while a frame is being written.
  void push_front_started(frame_ptr frame, std::size_t written);
  // Queues past the limit (a last frame before closing, a control frame).
  void push_unbounded(frame_ptr payload, ws_opcode op = ws_opcode::text);

  bool empty() const { return head_ == entries_.size(); }
  std::size_t bytes() const { return bytes_; }
  // Entry slots allocated: what the queue costs a connection besides the frames it holds.
  std::size_t slots() const { return entries_.capacity(); }
  // Bytes queued behind the front frame: what the limit bounds.
  std::size_t waiting_bytes() const;
  // Part of the first frame is on the wire: it must be finished before anything else.
  bool writing() const { return offset_ > 0; }
  // Appends the buffers (header, payload) of up to `max_frames` frames from the front, minus
  // what was already written; those frames take no more merges.
  void gather(std::vector<boost::asio::const_buffer>& out, std::size_t max_frames);
  // `n` bytes of the gathered buffers were written.
  void consume(std::size_t n);
  // Forgets every frame but one partly written.
  void drop_waiting();
  void clear();

private:
  struct entry {
    frame_ptr frame;
    actors::stream_event_ptr update;  // set while updates may merge into this frame
    std::string more;                 // raw text of the chunks merged into it
    ws_opcode op = ws_opcode::text;
    std::array<unsigned char, 10> header{};
    std::size_t header_len = 0;  // 0: not prepared yet
  };
  void prepare(entry& e);
  bool fits(std::size_t more) const;
  std::size_t size() const { return entries_.size() - head_; }
  entry& at(std::size_t i) { return entries_[head_ + i]; }
  void pop_front();

  // A vector used from `head_` on, not a deque: an empty deque already holds a 512-byte block,
  // paid by every idle connection; an empty vector holds nothing.
  std::vector<entry> entries_;
  std::size_t head_ = 0;
  std::size_t offset_ = 0;  // bytes of the first entry (header included) written
  std::size_t bytes_ = 0;
  std::size_t limit_;
};

}  // namespace actorcable::net

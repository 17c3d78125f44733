// The frames waiting to be written to one WebSocket connection, bounded in bytes (SPEC §5 slow
// clients). A plain-protocol streaming_update queued right behind another of the same message
// and identifier is merged into it: the client gets one frame with both chunks, the text stays
// exact. The frame being written is never touched.
#pragma once
#include "actors/protocol.hpp"
#include "net/cable_socket.hpp"

#include <deque>

namespace actorcable::net {

class write_queue {
public:
  explicit write_queue(std::size_t limit_bytes) : limit_(limit_bytes) {}

  enum class result { queued, merged, over_limit };
  // Queues `frame`; `update` (optional) is the plain streaming_update it carries, which later
  // updates may merge into. Over the limit nothing is queued.
  result push(frame_ptr frame, actors::stream_event_ptr update = nullptr);
  // Queues past the limit (a last frame before closing).
  void push_unbounded(frame_ptr frame);

  bool empty() const { return entries_.empty(); }
  std::size_t bytes() const { return bytes_; }
  bool writing() const { return writing_; }
  // The next frame, now being written (merged chunks folded in); nothing merges into it any more.
  const std::string& start_write();
  // The frame being written is done.
  void finish_write();
  // Forgets every frame but the one being written (its buffer must live until the write ends).
  void drop_waiting();
  void clear();

private:
  struct entry {
    frame_ptr frame;
    actors::stream_event_ptr update;  // set while updates may merge into this frame
    std::string more;                 // raw text of the chunks merged into it
  };
  std::deque<entry> entries_;
  std::size_t bytes_ = 0;
  std::size_t limit_;
  bool writing_ = false;
};

}  // namespace actorcable::net

// What a bridge actor needs from its connection. Implementations are thread-safe: calls come
// from CAF's threads and are posted onto the connection's own I/O thread.
#pragma once
#include "actors/protocol.hpp"
#include "actors/delivery/stream_tap.hpp"
#include "net/cable/cable_protocol.hpp"

namespace actorcable::net {

class cable_socket {
public:
  virtual ~cable_socket() = default;
  virtual void send(frame_ptr frame) = 0;
  // A plain-protocol streaming_update: it may be merged with the next ones while the client is
  // behind.
  virtual void send_update(frame_ptr frame, actors::stream_event_ptr) { send(std::move(frame)); }
  // Sends `last_frame` after what is queued, then closes the connection.
  virtual void close_with(frame_ptr last_frame) = 0;
  // Where local message actors attach this connection's routes (actors/delivery/stream_tap.hpp); null:
  // the bridge takes the events and forwards them.
  virtual std::shared_ptr<actors::tap_port> port() { return nullptr; }
  // `identifier` takes no more events of the message from the tap (after what was attached).
  virtual void detach(std::int64_t /*message_id*/, const std::string& /*identifier*/) {}
};

inline frame_ptr make_frame(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

}  // namespace actorcable::net

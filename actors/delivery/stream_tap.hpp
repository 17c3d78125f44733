// Subscribers outside the actor system. A WebSocket connection lives on one I/O thread; rather
// than one mailbox message per connection per event, a message actor hands each event once to
// each thread's tap, which writes it to that thread's connections in order.
#pragma once
#include "actors/protocol.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace actorcable::actors {

// One per I/O thread. Thread-safe: called by message actors, runs the work on its own thread in
// call order.
class stream_tap {
public:
  virtual ~stream_tap() = default;
  virtual void deliver(std::int64_t message_id, stream_event_ptr ev) = 0;
};

// One per connection: how it joins its thread's tap.
class tap_port {
public:
  virtual ~tap_port() = default;
  virtual std::shared_ptr<stream_tap> tap() = 0;
  // Sends `catchup` to `identifier`, then makes it take the message's events from the tap: the
  // catch-up and every event delivered after this call reach the client in order.
  virtual void attach(std::int64_t message_id, const std::string& identifier,
                      std::vector<stream_event_ptr> catchup) = 0;
};

// Attaches `port` to message `message_id` as `identifier` with its catch-up, and adds the
// port's thread to `taps` (the threads a message actor or relay delivers each event to).
inline void attach_port(std::vector<std::shared_ptr<stream_tap>>& taps, tap_port& port,
                        std::int64_t message_id, const std::string& identifier,
                        std::vector<stream_event_ptr> catchup) {
  auto tap = port.tap();
  if (std::find(taps.begin(), taps.end(), tap) == taps.end())
    taps.push_back(std::move(tap));
  port.attach(message_id, identifier, std::move(catchup));
}

}  // namespace actorcable::actors

// An I/O thread's tap (actors/stream_tap.hpp): the message streams its connections follow, so
// an event is posted to the thread once and written from there to each connection, with one
// frame per identifier shared by all of them.
#pragma once
#include "actors/stream_tap.hpp"
#include "common/metrics.hpp"
#include "net/cable_socket.hpp"

#include <boost/asio/io_context.hpp>

#include <mutex>
#include <unordered_map>

namespace actorcable::net {

class ws_session;

// The frame of `ev` for `identifier`, built once per identifier and protocol, then shared.
frame_ptr event_frame(const actors::stream_event& ev, const std::string& identifier, bool extended);

class io_tap final : public actors::stream_tap, public std::enable_shared_from_this<io_tap> {
public:
  io_tap(boost::asio::io_context& ioc, actorcable::metrics& stats) : ioc_(&ioc), stats_(stats) {}

  void deliver(std::int64_t message_id, actors::stream_event_ptr ev) override;
  // The io_context is going away: later events are dropped.
  void shut();

  // On the thread only. A session is added once per (message, identifier) and removed before
  // it is destroyed.
  void add(std::int64_t message_id, ws_session* s, const std::string& identifier, bool extended);
  void remove(std::int64_t message_id, ws_session* s, const std::string& identifier);
  void write(ws_session& s, const std::string& identifier, bool extended,
             const actors::stream_event_ptr& ev);

private:
  struct audience {
    std::string identifier;
    bool extended;
    std::vector<ws_session*> sessions;
  };
  void fan_out(std::int64_t message_id, const actors::stream_event_ptr& ev);
  void count(const actors::stream_event& ev, const std::string& frame, std::size_t frames);

  std::mutex mutex_;  // guards ioc_ only
  boost::asio::io_context* ioc_;
  actorcable::metrics& stats_;
  std::unordered_map<std::int64_t, std::vector<audience>> routes_;
  // A write that fails closes its session inside fan_out: its removal waits for the loop's end.
  bool fanning_out_ = false;
  struct removal {
    std::int64_t message_id;
    ws_session* session;
    std::string identifier;
  };
  std::vector<removal> deferred_;
};

}  // namespace actorcable::net

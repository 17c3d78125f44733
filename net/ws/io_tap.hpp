// An I/O thread's tap (actors/delivery/stream_tap.hpp): the message streams its connections follow, so
// an event is posted to the thread once and written from there to each connection, with one
// frame per identifier shared by all of them. A thread that falls behind catches up: the
// updates of a message that piled up meanwhile go out as one frame per plain-protocol
// connection (the text stays exact; extended clients get every offset).
#pragma once
#include "actors/delivery/stream_tap.hpp"
#include "common/metrics.hpp"
#include "net/cable/cable_socket.hpp"
#include "net/ws/send_batch.hpp"

#include <boost/asio/io_context.hpp>

#include <array>
#include <deque>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace actorcable::net {

// What the tap needs of a connection, on its thread (net/ws/ws_session is one; the unit suite
// has its own).
class tap_connection {
public:
  virtual ~tap_connection() = default;
  // Queues `frame` to be written; `update`: a plain-protocol update that later ones may merge
  // into while it waits in the queue.
  virtual void enqueue(const frame_ptr& frame, const actors::stream_event_ptr& update) = 0;
  // Between cork() and uncork() frames only queue; uncork() writes them together.
  virtual void cork() = 0;
  virtual void uncork() = 0;
  // For the thread's batched sends: the socket's descriptor when a frame may go straight to it
  // (nothing queued, nothing being written), claiming it for that one frame; else -1 (enqueue
  // instead). Until sent() the connection writes nothing itself; frames enqueued meanwhile
  // queue behind the claimed one.
  virtual int claim_socket() { return -1; }
  // The claimed frame's send: bytes of its wire form (header included) taken, or -errno.
  virtual void sent(const frame_ptr&, long) {}
};

// The frame of `ev` for `identifier` in its protocol.
frame_ptr event_frame(const actors::stream_event& ev, const std::string& identifier, bool extended);

// The event when it is a plain-protocol update that later ones may merge into (extended clients
// count offsets: their updates are never merged), else null.
actors::stream_event_ptr mergeable(const actors::stream_event_ptr& ev, bool extended);

// Counts `frames` connections handed `frame` of `ev` (broadcasts, bytes, emit-to-socket time).
void count_broadcast(actorcable::metrics& stats, const actors::stream_event& ev,
                     const std::string& frame, std::size_t frames);

class io_tap final : public actors::stream_tap, public std::enable_shared_from_this<io_tap> {
public:
  // `batched`: sends to idle connections go out through one io_uring submission per event
  // (send_batch), where the system allows it.
  io_tap(boost::asio::io_context& ioc, actorcable::metrics& stats, bool batched = false);

  void deliver(std::int64_t message_id, actors::stream_event_ptr ev) override;
  // Runs `fn` on the thread after the events of the message delivered so far (a connection
  // attaching to the message: its catch-up must come right after what it covers).
  void run_in_order(std::int64_t message_id, std::function<void()> fn);
  // The io_context is going away: later events are dropped.
  void shut();

  // On the thread only. A session is added once per (message, identifier) and removed before
  // it is destroyed.
  void add(std::int64_t message_id, tap_connection* s, const std::string& identifier, bool extended);
  void remove(std::int64_t message_id, tap_connection* s, const std::string& identifier);
  void write(tap_connection& s, const std::string& identifier, bool extended,
             const actors::stream_event_ptr& ev);
  // Writes a frame that belongs to no stream (the ping) to each of `sessions`, batched like an
  // event's.
  void write_all(const std::vector<tap_connection*>& sessions, const frame_ptr& frame);

private:
  struct audience {
    std::string identifier;
    bool extended;
    std::vector<tap_connection*> sessions;
  };
  void drain(std::int64_t message_id);
  void fan_out(std::int64_t message_id, const std::vector<actors::stream_event_ptr>& events);

  std::mutex mutex_;  // guards ioc_ and pending_
  boost::asio::io_context* ioc_;
  // Events delivered and not yet written, by message: one post per message while the thread is
  // busy, however many events arrive meanwhile.
  struct pending_item {
    actors::stream_event_ptr ev;
    std::function<void()> run;  // instead of an event
  };
  std::unordered_map<std::int64_t, std::deque<pending_item>> pending_;
  void post_in_order(std::int64_t message_id, pending_item item);
  actorcable::metrics& stats_;
  std::unordered_map<std::int64_t, std::vector<audience>> routes_;
  // A write that fails closes its session inside fan_out: its removal waits for the loop's end.
  bool fanning_out_ = false;
  struct removal {
    std::int64_t message_id;
    tap_connection* session;
    std::string identifier;
  };
  std::vector<removal> deferred_;
  // The frames built last on this thread: a frame is built once per event, identifier and
  // protocol, and shared by the connections that take it (the many subscribers joining with one
  // current_state included). The event stays immutable; this cache is the thread's own.
  struct cached_frame {
    std::weak_ptr<const actors::stream_event> ev;
    std::string identifier;
    bool extended = false;
    frame_ptr frame;
  };
  std::array<cached_frame, 16> frames_;
  // Batched sends (null: each connection writes its own): the claimed connections and the wire
  // frames (header and text) the pending sends point into.
  std::unique_ptr<send_batch> sends_;
  struct claimed {
    tap_connection* session;
    frame_ptr frame;
  };
  std::vector<claimed> claimed_;
  std::vector<frame_ptr> wires_;
  void send_or_enqueue(tap_connection& s, const frame_ptr& frame,
                       const actors::stream_event_ptr& update, frame_ptr& wire);
  void flush_sends();
  void end_turn();  // sends what is batched, then the removals that waited
  std::size_t next_frame_ = 0;
  frame_ptr frame_for(const actors::stream_event_ptr& ev, const std::string& identifier,
                      bool extended);
};

}  // namespace actorcable::net

#include "net/ws/io_tap.hpp"

#include "actors/delivery/stream_frames.hpp"
#include "net/cable/cable_protocol.hpp"
#include "net/ws/ws_frames.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>

namespace actorcable::net {

using actors::stream_event;

frame_ptr event_frame(const stream_event& ev, const std::string& identifier, bool extended) {
  return make_frame(broadcast_frame(identifier, ev.message_json,
                                    extended ? std::string_view(ev.ext_fields) : std::string_view()));
}

io_tap::io_tap(boost::asio::io_context& ioc, actorcable::metrics& stats, bool batched)
  : ioc_(&ioc), stats_(stats) {
  if (batched) {
    sends_ = std::make_unique<send_batch>();
    if (!sends_->ok())
      sends_.reset();
  }
}

frame_ptr io_tap::frame_for(const actors::stream_event_ptr& ev, const std::string& identifier,
                            bool extended) {
  auto same_event = [&](const std::weak_ptr<const stream_event>& w) {
    return !w.owner_before(ev) && !ev.owner_before(w);
  };
  for (auto& c : frames_)
    if (c.frame && c.extended == extended && same_event(c.ev) && c.identifier == identifier)
      return c.frame;
  auto& slot = frames_[next_frame_++ % frames_.size()];
  slot = {ev, identifier, extended, event_frame(*ev, identifier, extended)};
  return slot.frame;
}

actors::stream_event_ptr mergeable(const actors::stream_event_ptr& ev, bool extended) {
  return actors::is_mergeable(ev->type) && !extended ? ev : nullptr;
}

void count_broadcast(actorcable::metrics& stats, const stream_event& ev, const std::string& frame,
                     std::size_t frames) {
  auto n = static_cast<std::int64_t>(frames);
  if (ev.type == stream_event::kind::update)
    stats.emit_to_socket_seconds.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ev.emitted_at).count(), n);
  stats.broadcasts_total.fetch_add(n, std::memory_order_relaxed);
  stats.broadcast_bytes_total.fetch_add(n * static_cast<std::int64_t>(frame.size()),
                                        std::memory_order_relaxed);
}

void io_tap::deliver(std::int64_t message_id, actors::stream_event_ptr ev) {
  post_in_order(message_id, {std::move(ev), {}});
}

void io_tap::run_in_order(std::int64_t message_id, std::function<void()> fn) {
  post_in_order(message_id, {nullptr, std::move(fn)});
}

void io_tap::post_in_order(std::int64_t message_id, pending_item item) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!ioc_)
    return;
  auto& queued = pending_[message_id];
  queued.push_back(std::move(item));
  if (queued.size() == 1)
    boost::asio::post(*ioc_, [self = shared_from_this(), message_id] { self->drain(message_id); });
}

void io_tap::shut() {
  decltype(pending_) dropped;  // destroyed outside the lock: what it holds may hold sessions
  std::lock_guard<std::mutex> lock(mutex_);
  ioc_ = nullptr;
  dropped.swap(pending_);
}

void io_tap::drain(std::int64_t message_id) {
  // A turn takes a bounded share of the backlog and queues the rest behind the thread's other
  // work: with hundreds of extended-protocol connections (whose events never merge) a backlog
  // written at once would hold the thread, and every request on it, for seconds.
  constexpr std::size_t max_items_per_turn = 64;
  std::vector<pending_item> items;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = pending_.find(message_id);
    if (it == pending_.end())
      return;
    auto& queued = it->second;
    auto n = std::min(queued.size(), max_items_per_turn);
    items.assign(std::make_move_iterator(queued.begin()), std::make_move_iterator(queued.begin() + n));
    queued.erase(queued.begin(), queued.begin() + n);
    if (queued.empty())
      pending_.erase(it);
    else if (ioc_)
      boost::asio::post(*ioc_, [self = shared_from_this(), message_id] { self->drain(message_id); });
  }
  std::vector<actors::stream_event_ptr> events;
  for (auto& item : items) {
    if (item.ev) {
      events.push_back(std::move(item.ev));
      continue;
    }
    if (!events.empty())
      fan_out(message_id, events);
    events.clear();
    item.run();
  }
  if (!events.empty())
    fan_out(message_id, events);
}

void io_tap::add(std::int64_t message_id, tap_connection* s, const std::string& identifier,
                 bool extended) {
  auto& list = routes_[message_id];
  auto a = std::find_if(list.begin(), list.end(), [&](const audience& a) {
    return a.extended == extended && a.identifier == identifier;
  });
  if (a == list.end())
    a = list.insert(list.end(), audience{identifier, extended, {}});
  a->sessions.push_back(s);
}

void io_tap::remove(std::int64_t message_id, tap_connection* s, const std::string& identifier) {
  if (fanning_out_) {
    deferred_.push_back({message_id, s, identifier});
    return;
  }
  auto it = routes_.find(message_id);
  if (it == routes_.end())
    return;
  auto& list = it->second;
  for (auto a = list.begin(); a != list.end(); ++a) {
    if (a->identifier != identifier)
      continue;
    auto& v = a->sessions;
    if (auto i = std::find(v.begin(), v.end(), s); i != v.end()) {
      *i = v.back();  // delivery order across connections does not matter
      v.pop_back();
      if (v.empty())
        list.erase(a);
      break;
    }
  }
  if (list.empty())
    routes_.erase(it);
}

void io_tap::write(tap_connection& s, const std::string& identifier, bool extended,
                   const actors::stream_event_ptr& ev) {
  auto frame = frame_for(ev, identifier, extended);
  count_broadcast(stats_, *ev, *frame, 1);
  s.enqueue(frame, mergeable(ev, extended));
}

namespace {

// `events` with each run of consecutive updates merged into one.
std::vector<actors::stream_event_ptr> merged_runs(const std::vector<actors::stream_event_ptr>& events) {
  std::vector<actors::stream_event_ptr> out, run;
  auto close_run = [&] {
    if (!run.empty())
      out.push_back(run.size() == 1 ? run.front() : actors::merge_updates(run));
    run.clear();
  };
  for (auto& ev : events) {
    if (actors::is_mergeable(ev->type)) {
      if (!run.empty() && run.front()->type != ev->type)
        close_run();
      run.push_back(ev);
    } else {
      close_run();
      out.push_back(ev);
    }
  }
  close_run();
  return out;
}

}  // namespace

void io_tap::fan_out(std::int64_t message_id, const std::vector<actors::stream_event_ptr>& events) {
  auto it = routes_.find(message_id);
  if (it == routes_.end())
    return;
  std::vector<actors::stream_event_ptr> merged;
  if (events.size() > 1)
    merged = merged_runs(events);
  // A session closed by a failed write stays alive (its aborted waits still hold it) and ignores
  // later frames; it leaves the lists after the loop.
  fanning_out_ = true;
  bool batch = events.size() > 1;  // the thread fell behind: write each connection's share at once
  for (auto& a : it->second) {
    if (batch)
      for (auto* s : a.sessions)
        s->cork();
    for (auto& ev : a.extended || !batch ? events : merged) {
      auto frame = frame_for(ev, a.identifier, a.extended);
      count_broadcast(stats_, *ev, *frame, a.sessions.size());
      auto update = mergeable(ev, a.extended);
      frame_ptr wire;  // built once, for the first connection that takes a batched send
      for (auto* s : a.sessions)
        send_or_enqueue(*s, frame, update, wire);
    }
    if (batch)
      for (auto* s : a.sessions)
        s->uncork();
  }
  end_turn();
}

void io_tap::write_all(const std::vector<tap_connection*>& sessions, const frame_ptr& frame) {
  fanning_out_ = true;
  frame_ptr wire;
  for (auto* s : sessions)
    send_or_enqueue(*s, frame, nullptr, wire);
  end_turn();
}

void io_tap::end_turn() {
  flush_sends();
  wires_.clear();
  fanning_out_ = false;
  for (auto& r : deferred_)
    remove(r.message_id, r.session, r.identifier);
  deferred_.clear();
}

void io_tap::send_or_enqueue(tap_connection& s, const frame_ptr& frame,
                             const actors::stream_event_ptr& update, frame_ptr& wire) {
  int fd = sends_ ? s.claim_socket() : -1;
  if (fd < 0) {
    s.enqueue(frame, update);
    return;
  }
  if (!wire) {
    std::array<unsigned char, 10> header;
    auto n = ws_header(header, ws_opcode::text, frame->size());
    std::string w(reinterpret_cast<const char*>(header.data()), n);
    w += *frame;
    wire = make_frame(std::move(w));
    wires_.push_back(wire);
  }
  if (sends_->full())
    flush_sends();
  claimed_.push_back({&s, frame});
  sends_->add(fd, wire->data(), wire->size(), reinterpret_cast<void*>(claimed_.size() - 1));
}

void io_tap::flush_sends() {
  if (!sends_ || sends_->empty())
    return;
  for (auto& r : sends_->flush()) {
    auto& c = claimed_[reinterpret_cast<std::size_t>(r.tag)];
    c.session->sent(c.frame, r.value);
  }
  claimed_.clear();
  if (!sends_->ok())
    sends_.reset();  // the ring failed: connections write for themselves from now on
}

}  // namespace actorcable::net

// Stand-ins for the actors around a message actor: a subscriber that records what it gets and a
// writer that records what it is asked to persist (the real writer is tested against PostgreSQL).
#pragma once
#include "actors/protocol.hpp"
#include "actors/store/stream_writer.hpp"
#include "actors/delivery/stream_tap.hpp"

#include <boost/json.hpp>

#include <vector>

namespace actorcable::testing {

// The status a streaming_end event tells its clients ("" for other events), read from its frame.
inline std::string end_status(const actors::stream_event& ev) {
  auto v = boost::json::parse(ev.message_json);
  auto& o = v.as_object();
  auto it = o.find("status");
  return it == o.end() ? std::string() : std::string(it->value().as_string());
}

struct recorder_state {
  std::vector<actors::stream_event_ptr> events;
};

inline caf::behavior recorder(caf::stateful_actor<recorder_state>* self) {
  return {
    [=](actors::frame_atom, const actors::stream_event_ptr& ev) {
      self->state.events.push_back(ev);
    },
  };
}

struct fake_writer_state {
  std::vector<std::int64_t> claims;
  std::vector<actors::stream_delta> appends;
  std::vector<actors::stream_close> finishes;
  std::vector<actors::stream_close> releases;  // handovers (SPEC §12)
  std::vector<std::vector<std::int64_t>> takes;
  bool row_exists = true;
};

using fake_writer_actor = actors::stream_writer_actor::stateful_base<fake_writer_state>;

inline actors::stream_writer_actor::behavior_type
fake_writer(actors::stream_writer_actor::stateful_pointer<fake_writer_state> self) {
  return {
    [=](caf::put_atom, const caf::actor&) {},
    [=](actors::claim_atom, std::int64_t id) {
      self->state.claims.push_back(id);
      return self->state.row_exists;
    },
    [=](actors::append_atom, actors::stream_delta& delta) {
      self->state.appends.push_back(std::move(delta));
    },
    [=](actors::finish_atom, actors::stream_close& close) {
      self->state.finishes.push_back(std::move(close));
      return true;
    },
    [=](actors::sweep_atom, bool) {},
    [=](actors::adopt_atom) { return std::int64_t{0}; },
    [=](actors::take_atom, const std::vector<std::int64_t>& ids) { self->state.takes.push_back(ids); },
    [=](actors::release_atom, actors::stream_close& state) {
      self->state.releases.push_back(std::move(state));
      return self->state.row_exists;
    },
    [=](actors::sync_atom) { return std::make_tuple(std::int64_t{0}, std::int64_t{0}); },
    [=](actors::write_atom) {},
    [=](actors::retry_atom) {},
  };
}

// An I/O thread's tap as the actors see it: what was delivered to it, in order.
struct fake_tap final : actors::stream_tap {
  std::vector<std::pair<std::int64_t, actors::stream_event_ptr>> delivered;
  void deliver(std::int64_t message_id, actors::stream_event_ptr ev) override {
    delivered.emplace_back(message_id, std::move(ev));
  }
};

// A connection on that thread: its catch-up when it attached, then what the tap got for the
// message from then on.
struct fake_port final : actors::tap_port {
  explicit fake_port(std::shared_ptr<fake_tap> t) : thread(std::move(t)) {}
  std::shared_ptr<actors::stream_tap> tap() override { return thread; }
  void attach(std::int64_t id, const std::string& identifier,
              std::vector<actors::stream_event_ptr> catchup) override {
    ++attaches;
    message_id = id;
    attached_as = identifier;
    caught_up = std::move(catchup);
    from = thread->delivered.size();
  }
  // What its client would have been sent, in order.
  std::vector<actors::stream_event_ptr> seen() const {
    auto out = caught_up;
    for (auto i = from; i < thread->delivered.size(); ++i)
      if (thread->delivered[i].first == message_id)
        out.push_back(thread->delivered[i].second);
    return out;
  }
  std::shared_ptr<fake_tap> thread;
  int attaches = 0;
  std::int64_t message_id = 0;
  std::string attached_as;
  std::vector<actors::stream_event_ptr> caught_up;
  std::size_t from = 0;
};

// The text a client assembles from `events`: current_state replaces, updates append.
inline std::string assembled_text(const std::vector<actors::stream_event_ptr>& events) {
  std::string out;
  for (auto& ev : events) {
    auto v = boost::json::parse(ev->message_json);
    auto& o = v.as_object();
    if (ev->type == actors::stream_event::kind::state)
      out = std::string(o.at("content").as_string());
    else if (ev->type == actors::stream_event::kind::update)
      out += std::string(o.at("chunk").as_string());
  }
  return out;
}

// A job that does nothing by itself: the test speaks for it. "throw" makes it raise.
inline caf::behavior puppet_job(caf::event_based_actor* self) {
  return {
    [=](const std::string& cmd) {
      if (cmd == "throw")
        throw std::runtime_error("provider exploded");
      if (cmd == "finish")
        self->quit();
    },
  };
}

}  // namespace actorcable::testing

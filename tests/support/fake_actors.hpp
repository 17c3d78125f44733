// Stand-ins for the actors around a message actor: a subscriber that records what it gets and a
// writer that records what it is asked to persist (the real writer is tested against PostgreSQL).
#pragma once
#include "actors/protocol.hpp"
#include "actors/store/stream_writer.hpp"

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
    [=](actors::sync_atom) { return std::make_tuple(std::int64_t{0}, std::int64_t{0}); },
    [=](actors::write_atom) {},
    [=](actors::retry_atom) {},
  };
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

#include "actors/stream/message_parts.hpp"

#include "actors/delivery/stream_frames.hpp"

#include <algorithm>

namespace actorcable::actors::message_parts {

stream_identity identity(self_ptr self) {
  return {self->state.id, self->state.oid, self->state.epoch};
}

void count(actorcable::metrics* m, std::atomic<std::int64_t> actorcable::metrics::*field,
           std::int64_t delta) {
  if (m)
    (m->*field).fetch_add(delta, std::memory_order_relaxed);
}

// streaming_end has an offset of its own, after the last part: every event is counted once.
stream_event_ptr end_event(self_ptr self) {
  auto& st = self->state;
  return make_end_event(identity(self), st.answer.parts() + 1, st.status, st.result);
}

stream_event_ptr state_event(self_ptr self, bool streaming) {
  auto& st = self->state;
  auto parts = st.answer.parts();
  if (!st.shared_state || st.shared_state->offset != parts || st.shared_state_streaming != streaming) {
    st.shared_state = make_state_event(identity(self), parts, st.answer.view(), streaming);
    st.shared_state_streaming = streaming;
  }
  return st.shared_state;
}

bool add_subscriber(self_ptr self, const message_actor_config& cfg, const caf::actor& sub,
                    const catchup& c) {
  auto& st = self->state;
  std::vector<stream_event_ptr> caught_up;  // for a tapped subscriber
  auto deliver = [&](stream_event_ptr ev) {
    if (c.port)
      caught_up.push_back(std::move(ev));
    else if (c.tag == 0)
      tell(self, sub, frame_atom::value, std::move(ev));
    else
      tell(self, sub, frame_atom::value, std::move(ev), c.tag);
  };
  std::int64_t chunks = st.answer.parts();
  if (c.how == catchup::mode::replay
      && (c.epoch != st.epoch || c.after < 0 || c.after > chunks + (st.ended ? 1 : 0)
          || st.answer.replay_cost(c.after) > cfg.max_replay_bytes))
    return false;
  auto& list = c.port ? st.tapped : st.subscribers;
  if (list.insert(sub)) {
    self->monitor(sub);
    count(cfg.metrics, &metrics::stream_subscribers, 1);
  }
  switch (c.how) {
    case catchup::mode::none:
      break;
    case catchup::mode::state_if_streaming:
      if (st.streaming)
        deliver(state_event(self, true));
      else if (st.ended)
        deliver(end_event(self));  // a client (re)subscribing after the end learns how it ended
      break;
    case catchup::mode::state_always:
      deliver(state_event(self, st.streaming));
      if (st.ended)
        deliver(end_event(self));
      break;
    case catchup::mode::replay:
      for (auto i = c.after + 1; i <= chunks; ++i)
        deliver(st.answer.part_event(identity(self), i));
      if (st.ended && c.after <= chunks)
        deliver(end_event(self));
      break;
  }
  if (c.port)
    attach_port(st.taps, *c.port, st.id, c.identifier, std::move(caught_up));
  return true;
}

void drop_subscriber(self_ptr self, const message_actor_config& cfg, const caf::actor_addr& sub) {
  for (auto* list : {&self->state.subscribers, &self->state.tapped})
    if (list->erase(sub))
      count(cfg.metrics, &metrics::stream_subscribers, -1);
}

void broadcast(self_ptr self, const message_actor_config& cfg, const stream_event_ptr& ev) {
  std::int64_t remote = 0;
  auto msg = caf::make_message(frame_atom::value, ev);  // one message, shared by every mailbox
  for (auto& sub : self->state.subscribers) {
    tell(self, sub, msg);
    if (sub.node() != self->node())
      ++remote;  // a relay on another node: one copy there, whatever its subscribers
  }
  if (remote > 0)
    count(cfg.metrics, &metrics::cluster_frames_sent_total, remote);
  for (auto& tap : self->state.taps)
    tap->deliver(self->state.id, ev);
}

}  // namespace actorcable::actors::message_parts

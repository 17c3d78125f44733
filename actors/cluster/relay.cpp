#include "actors/cluster/relay.hpp"

#include "actors/errors.hpp"
#include "actors/delivery/stream_frames.hpp"
#include "common/log.hpp"
#include "model/obfuscated_id.hpp"

#include <algorithm>

namespace actorcable::actors {
namespace {

using self_ptr = relay_actor::stateful_pointer<relay_state>;

using namespace std::chrono_literals;

void note(self_ptr self, const stream_event& ev) {
  auto& st = self->state;
  if (ev.type == stream_event::kind::end)
    st.ended = true;
  else
    st.chunks = std::max(st.chunks, ev.offset);
}

// Whether the message being handled comes from the current origin (not a replaced one's).
bool from_origin(self_ptr self) {
  auto& origin = self->state.origin;
  return origin && self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(origin);
}

// Nobody on this node takes the stream's events, nor waits for a catch-up.
bool nobody_here(const relay_state& st) {
  return st.subscribers.empty() && st.tapped.empty() && st.catching_up.empty();
}

void drop(self_ptr self, const caf::actor_addr& who) {
  auto& st = self->state;
  st.subscribers.erase(who);
  st.tapped.erase(who);
  if (nobody_here(st) && st.subscribed) {
    // Nobody here listens: stop the events crossing, until someone subscribes again.
    st.subscribed = false;
    if (st.origin)
      self->send(st.origin, caf::unsubscribe_atom::value, caf::actor_cast<caf::actor>(self));
  }
}

// Adds `sub` with no catch-up of its own (`port`: attached to its connection's tap).
void add_direct(self_ptr self, const caf::actor& sub, tap_port* port, const std::string& identifier,
                std::vector<stream_event_ptr> caught_up = {}) {
  auto& st = self->state;
  if ((port ? st.tapped : st.subscribers).insert(sub))
    self->monitor(sub);
  if (port)
    attach_port(st.taps, *port, st.message_id, identifier, std::move(caught_up));
}

void deliver_all(self_ptr self, const stream_event_ptr& ev) {
  auto& st = self->state;
  if (!st.subscribers.empty()) {
    auto msg = caf::make_message(frame_atom::value, ev);
    for (auto& sub : st.subscribers)
      tell(self, sub, msg);
  }
  for (auto& tap : st.taps)
    tap->deliver(st.message_id, ev);
}

// Nobody continues the stream: every subscriber here is told it ended `interrupted`.
void end_interrupted(self_ptr self) {
  auto& st = self->state;
  stream_identity who{st.message_id, model::encode_id(model::model_kind::message, st.message_id),
                      st.epoch};
  auto end = make_end_event(who, st.chunks + 1, model::stream_status::interrupted);
  deliver_all(self, end);
  for (auto& [tag, w] : st.catching_up) {
    // A connection not attached yet gets what was gathered for it, then the end, as messages
    // (a subscriber without a port was sent its catch-up already: it gathered nothing).
    w.caught_up.push_back(end);
    for (auto& ev : w.caught_up) {
      if (w.tag == 0)
        tell(self, w.sub, frame_atom::value, ev);
      else
        tell(self, w.sub, frame_atom::value, ev, w.tag);
    }
  }
  self->quit();
}

void learn_identity(self_ptr self) {
  auto origin = self->state.origin;
  self->request(origin, 10s, info_atom::value)
    .then([=](stream_info& info) {
            auto& st = self->state;
            if (st.origin != origin)
              return;
            st.epoch = std::move(info.epoch);
            st.chunks = std::max(st.chunks, info.parts);
            st.ended = st.ended || info.ended;
            st.generation = info.generation;
          },
          [](caf::error&) {});  // the origin is gone: the down handler sees to it
}

// SPEC §12: the answer goes on at `origin` (another node took it over). Everyone here gets its
// state, which replaces whatever they had, then its events.
void follow(self_ptr self, message_actor_actor origin, std::string epoch, std::int64_t generation) {
  auto& st = self->state;
  if (st.origin)
    self->demonitor(st.origin.address());
  st.origin = std::move(origin);
  st.epoch = std::move(epoch);
  st.generation = generation;
  st.ended = false;
  st.chunks = 0;
  self->monitor(st.origin);
  st.subscribed = !st.subscribers.empty() || !st.tapped.empty();
  if (!st.subscribed)
    return;  // the next subscriber subscribes, with its own catch-up
  catchup c;
  c.how = catchup::mode::state_always;
  c.tag = st.state_tag = ++st.next_tag;
  self->request(st.origin, 10s, caf::subscribe_atom::value, caf::actor_cast<caf::actor>(self), c)
    .then([](caf::actor&, bool) {}, [](caf::error&) {});
}

}  // namespace

relay_actor::behavior_type relay(self_ptr self, std::int64_t message_id,
                                 message_actor_actor origin, caf::timespan takeover_wait,
                                 actorcable::metrics* metrics) {
  auto& st = self->state;
  st.message_id = message_id;
  st.origin = origin;
  self->monitor(origin);
  learn_identity(self);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (!st.origin || msg.source != st.origin) {
      drop(self, msg.source);
      return;
    }
    // A normal end: the subscribers were told, they must not hear another. With nobody here,
    // nobody waits for a takeover either: a later subscriber finds the row or the new owner.
    if (st.ended || nobody_here(st)) {
      self->quit();
      return;
    }
    log::warn("relay", "origin_lost", {{"message_id", st.message_id},
                                       {"reason", caf::to_string(msg.reason)},
                                       {"waiting_ms", std::chrono::duration_cast<std::chrono::milliseconds>(takeover_wait).count()}});
    if (takeover_wait == caf::timespan{0}) {
      end_interrupted(self);
      return;
    }
    st.origin = message_actor_actor{};
    self->delayed_send(self, takeover_wait, takeover_wait_atom::value, ++st.orphaned);
  });
  return {
    [=](caf::subscribe_atom, caf::actor& sub, catchup& c) -> caf::result<caf::actor, bool> {
      auto& st = self->state;
      auto me = caf::actor_cast<caf::actor>(self);
      if (!st.origin) {  // waiting for the node that takes over: its state will come to all
        add_direct(self, sub, c.port.get(), c.identifier);
        st.subscribed = true;
        return {me, c.how != catchup::mode::replay};
      }
      auto tag = ++st.next_tag;
      st.catching_up.emplace(tag, relay_state::waiting{sub, c.tag, std::move(c.port),
                                                       c.identifier, {}});
      st.subscribed = true;
      c.tag = tag;
      c.port = nullptr;  // the origin's events come here as messages, never to a port elsewhere
      auto asked = st.origin;
      auto rp = self->make_response_promise<caf::actor, bool>();
      auto how = c.how;
      self->request(st.origin, 10s, caf::subscribe_atom::value, me, c)
        .then(
          [=](caf::actor&, bool accepted) mutable {
            auto& st = self->state;
            auto w = st.catching_up.find(tag);
            if (w == st.catching_up.end())
              return;
            auto sub = w->second.sub;
            auto port = std::move(w->second.port);
            auto identifier = std::move(w->second.identifier);
            auto caught_up = std::move(w->second.caught_up);
            st.catching_up.erase(w);
            if (accepted)
              add_direct(self, sub, port.get(), identifier, std::move(caught_up));
            rp.deliver(me, accepted);
            if (!accepted)
              drop(self, sub.address());
          },
          [=](caf::error& err) mutable {
            auto& st = self->state;
            auto w = st.catching_up.find(tag);
            if (w == st.catching_up.end()) {
              rp.deliver(err);
              return;
            }
            auto sub = w->second.sub;
            auto port = std::move(w->second.port);
            auto identifier = std::move(w->second.identifier);
            st.catching_up.erase(w);
            if (st.origin != asked) {  // lost meanwhile: the new origin's state comes to all
              add_direct(self, sub, port.get(), identifier);
              rp.deliver(me, how != catchup::mode::replay);
              return;
            }
            drop(self, sub.address());
            rp.deliver(err);
          });
      return rp;
    },
    [=](caf::unsubscribe_atom, const caf::actor& sub) {
      self->demonitor(sub);
      drop(self, sub.address());
    },
    [=](frame_atom, const stream_event_ptr& ev) {
      if (!ev || !from_origin(self))
        return;
      note(self, *ev);
      if (metrics)
        metrics->cluster_frames_received_total.fetch_add(1, std::memory_order_relaxed);
      deliver_all(self, ev);
    },
    [=](frame_atom, const stream_event_ptr& ev, std::uint64_t tag) {
      auto& st = self->state;
      if (!ev || !from_origin(self))
        return;
      if (tag == st.state_tag) {  // a new origin's state: for everyone here
        note(self, *ev);
        deliver_all(self, ev);
        return;
      }
      auto w = st.catching_up.find(tag);
      if (w == st.catching_up.end())
        return;
      note(self, *ev);
      if (w->second.port)
        w->second.caught_up.push_back(ev);
      else if (w->second.tag == 0)
        tell(self, w->second.sub, frame_atom::value, ev);
      else
        tell(self, w->second.sub, frame_atom::value, ev, w->second.tag);
    },
    [=](origin_atom, const caf::actor& announced) {
      auto next = caf::actor_cast<message_actor_actor>(announced);
      if (!next || next == self->state.origin)
        return;
      self->request(next, 10s, info_atom::value)
        .then([=](stream_info& info) {
                auto& st = self->state;
                auto generation = info.generation;
                bool newer = generation > st.generation || (!st.origin && generation >= st.generation);
                if (next == st.origin || !newer)
                  return;  // a stale owner's announcement
                log::info("relay", "origin_moved", {{"message_id", st.message_id},
                                                    {"generation", generation}});
                follow(self, next, std::move(info.epoch), generation);
              },
              [](caf::error&) {});
    },
    [=](takeover_wait_atom, std::uint64_t loss) {
      if (!self->state.origin && loss == self->state.orphaned) {
        log::warn("relay", "takeover_missed", {{"message_id", self->state.message_id}});
        end_interrupted(self);
      }
    },
    [=](cancel_atom) -> caf::result<bool> {
      if (!self->state.origin)
        return make_error(errc::taking_over, "the answer is being taken over");
      self->delegate(self->state.origin, cancel_atom::value);
      return caf::delegated<bool>{};
    },
    [=](await_end_atom, bool cancel) -> caf::result<std::string> {
      if (!self->state.origin)
        return make_error(errc::taking_over, "the answer is being taken over");
      self->delegate(self->state.origin, await_end_atom::value, cancel);
      return caf::delegated<std::string>{};
    },
    [=](caf::get_atom) -> caf::result<std::string> {
      if (!self->state.origin)
        return make_error(errc::taking_over, "the answer is being taken over");
      self->delegate(self->state.origin, caf::get_atom::value);
      return caf::delegated<std::string>{};
    },
  };
}

}  // namespace actorcable::actors

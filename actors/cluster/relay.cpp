#include "actors/cluster/relay.hpp"

#include "actors/stream/stream_frames.hpp"
#include "common/log.hpp"
#include "model/obfuscated_id.hpp"

#include <algorithm>

namespace actorcable::actors {
namespace {

using self_ptr = caf::stateful_actor<relay_state>*;
using namespace std::chrono_literals;

void note(self_ptr self, const stream_event& ev) {
  auto& st = self->state;
  if (ev.type == stream_event::kind::end)
    st.ended = true;
  else
    st.chunks = std::max(st.chunks, ev.offset);
}

void drop(self_ptr self, const caf::actor_addr& who) {
  auto& st = self->state;
  st.subscribers.erase(who);
  st.tapped.erase(who);
  if (st.subscribers.empty() && st.tapped.empty() && st.catching_up.empty() && st.subscribed) {
    // Nobody here listens: stop the events crossing, until someone subscribes again.
    st.subscribed = false;
    self->send(st.origin, caf::unsubscribe_atom::value, caf::actor_cast<caf::actor>(self));
  }
}

}  // namespace

caf::behavior relay(self_ptr self, std::int64_t message_id, caf::actor origin,
                    actorcable::metrics* metrics) {
  auto& st = self->state;
  st.message_id = message_id;
  st.origin = origin;
  self->monitor(origin);
  self->request(origin, 10s, info_atom::value)
    .then([=](std::string& epoch, std::int64_t chunks, bool ended) {
      auto& st = self->state;
      st.epoch = std::move(epoch);
      st.chunks = std::max(st.chunks, chunks);
      st.ended = st.ended || ended;
    },
    [](caf::error&) {});  // the origin is gone: the down handler ends the stream here
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source != st.origin) {
      drop(self, msg.source);
      return;
    }
    if (!st.ended) {
      log::warn("relay", "origin_lost", {{"message_id", st.message_id},
                                         {"reason", caf::to_string(msg.reason)}});
      stream_identity who{st.message_id, model::encode_id(model::model_kind::message, st.message_id),
                          st.epoch};
      auto end = make_end_event(who, st.chunks + 1, model::stream_status::interrupted);
      for (auto& sub : st.subscribers)
        self->send(sub, frame_atom::value, end);
      for (auto& tap : st.taps)
        tap->deliver(st.message_id, end);
      for (auto& [tag, w] : st.catching_up) {
        // A connection not attached yet gets what was gathered for it, then the end, as messages
        // (a subscriber without a port was sent its catch-up already: it gathered nothing).
        w.caught_up.push_back(end);
        for (auto& ev : w.caught_up) {
          if (w.tag == 0)
            self->send(w.sub, frame_atom::value, ev);
          else
            self->send(w.sub, frame_atom::value, ev, w.tag);
        }
      }
    }
    // A normal exit: the subscribers were told, they must not announce another end.
    self->quit();
  });
  return {
    [=](caf::subscribe_atom, caf::actor& sub, catchup& c) -> caf::result<caf::actor, bool> {
      auto& st = self->state;
      auto tag = ++st.next_tag;
      st.catching_up.emplace(tag, relay_state::waiting{sub, c.tag, std::move(c.port),
                                                       c.identifier, {}});
      st.subscribed = true;
      c.tag = tag;
      c.port = nullptr;  // the origin's events come here as messages, never to a port elsewhere
      auto rp = self->make_response_promise<caf::actor, bool>();
      auto me = caf::actor_cast<caf::actor>(self);
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
            if (accepted && (port ? st.tapped : st.subscribers).insert(sub))
              self->monitor(sub);
            if (accepted && port)
              attach_port(st.taps, *port, st.message_id, identifier, std::move(caught_up));
            rp.deliver(me, accepted);
            if (!accepted)
              drop(self, sub.address());
          },
          [=](caf::error& err) mutable {
            auto& st = self->state;
            if (auto w = st.catching_up.find(tag); w != st.catching_up.end()) {
              auto sub = w->second.sub;
              st.catching_up.erase(w);
              drop(self, sub.address());
            }
            rp.deliver(err);
          });
      return rp;
    },
    [=](caf::unsubscribe_atom, const caf::actor& sub) {
      self->demonitor(sub);
      drop(self, sub.address());
    },
    [=](frame_atom, const stream_event_ptr& ev) {
      if (!ev)
        return;
      note(self, *ev);
      if (metrics)
        metrics->cluster_frames_received_total.fetch_add(1, std::memory_order_relaxed);
      auto& st = self->state;
      if (!st.subscribers.empty()) {
        auto msg = caf::make_message(frame_atom::value, ev);
        for (auto& sub : st.subscribers)
          self->send(sub, msg);
      }
      for (auto& tap : st.taps)
        tap->deliver(st.message_id, ev);
    },
    [=](frame_atom, const stream_event_ptr& ev, std::uint64_t tag) {
      auto& st = self->state;
      auto w = st.catching_up.find(tag);
      if (!ev || w == st.catching_up.end())
        return;
      note(self, *ev);
      if (w->second.port)
        w->second.caught_up.push_back(ev);
      else if (w->second.tag == 0)
        self->send(w->second.sub, frame_atom::value, ev);
      else
        self->send(w->second.sub, frame_atom::value, ev, w->second.tag);
    },
    [=](cancel_atom) {
      self->delegate(self->state.origin, cancel_atom::value);
      return caf::delegated<bool>{};
    },
    [=](await_end_atom, bool cancel) {
      self->delegate(self->state.origin, await_end_atom::value, cancel);
      return caf::delegated<std::string>{};
    },
    [=](caf::get_atom) {
      self->delegate(self->state.origin, caf::get_atom::value);
      return caf::delegated<std::string>{};
    },
  };
}

}  // namespace actorcable::actors

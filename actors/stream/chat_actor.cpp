#include "actors/stream/chat_actor.hpp"

#include "actors/delivery/stream_frames.hpp"

namespace actorcable::actors {
namespace {

using self_ptr = chat_actor_actor::stateful_pointer<chat_state>;

// An empty chat actor lingers a while before it quits: a subscriber arriving right after the last
// one left finds it alive (the directory cannot see that it is about to quit).
constexpr auto linger = std::chrono::seconds(30);

void drop_subscriber(self_ptr self, const caf::actor_addr& who) {
  auto& subs = self->state.subscribers;
  subs.erase(who);
  if (subs.empty())
    self->delayed_send(self, linger, retire_atom::value);
}

}  // namespace

chat_actor_actor::behavior_type chat_actor(self_ptr self, std::int64_t chat_id,
                                           std::map<std::int64_t, caf::actor> live_streams) {
  self->state.chat_id = chat_id;
  self->state.streams = std::move(live_streams);
  for (auto& [mid, stream] : self->state.streams)
    self->monitor(stream);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& streams = self->state.streams;
    for (auto it = streams.begin(); it != streams.end(); ++it) {
      if (it->second == msg.source) {
        streams.erase(it);
        return;
      }
    }
    drop_subscriber(self, msg.source);
  });
  return {
    [=](caf::subscribe_atom, caf::actor& sub) {
      auto& st = self->state;
      if (st.subscribers.insert(sub))
        self->monitor(sub);
      for (auto& [mid, stream] : st.streams)
        tell(self, sub, chat_stream_atom::value, st.chat_id, mid, stream);
      return caf::actor_cast<caf::actor>(self);
    },
    [=](caf::unsubscribe_atom, const caf::actor& sub) {
      self->demonitor(sub);
      drop_subscriber(self, sub.address());
    },
    [=](retire_atom) {
      if (self->state.subscribers.empty())
        self->quit();
    },
    [=](stream_started_atom, std::int64_t mid, caf::actor& stream) {
      auto& st = self->state;
      if (!st.streams.emplace(mid, stream).second)
        return;
      self->monitor(stream);
      auto refresh = make_refresh_event(st.chat_id);
      for (auto& sub : st.subscribers) {
        tell(self, sub, frame_atom::value, refresh);
        tell(self, sub, chat_stream_atom::value, st.chat_id, mid, stream);
      }
    },
  };
}

}  // namespace actorcable::actors

#include "actors/broadcast/hub.hpp"

#include <algorithm>

namespace actorcable::actors {
namespace {

using self_ptr = broadcast_hub_actor::stateful_pointer<hub_state>;

void forget(self_ptr self, const std::string& stream, const caf::actor_addr& who) {
  auto& st = self->state;
  if (auto it = st.listeners.find(stream); it != st.listeners.end()) {
    it->second.erase(who);
    if (it->second.empty())
      st.listeners.erase(it);
  }
}

void deliver(self_ptr self, actorcable::metrics* metrics, const std::vector<std::string>& streams,
             const std::vector<std::string>& messages) {
  auto n = std::min(streams.size(), messages.size());
  for (std::size_t i = 0; i < n; ++i) {
    auto it = self->state.listeners.find(streams[i]);
    if (it == self->state.listeners.end())
      continue;
    for (auto& listener : it->second)
      tell(self, listener, broadcast_atom::value, streams[i], messages[i]);
    if (metrics)
      metrics->broadcast_deliveries_total.fetch_add(static_cast<std::int64_t>(it->second.size()),
                                                    std::memory_order_relaxed);
  }
}

}  // namespace

broadcast_hub_actor::behavior_type broadcast_hub(self_ptr self, actorcable::metrics* metrics) {
  self->set_down_handler([=](caf::down_msg& msg) {
    auto it = self->state.joined.find(msg.source);
    if (it == self->state.joined.end())
      return;
    auto streams = std::move(it->second);
    self->state.joined.erase(it);
    for (auto& stream : streams)
      forget(self, stream, msg.source);
  });
  return {
    [=](caf::join_atom, std::string& stream, caf::actor& who) {
      auto& st = self->state;
      if (!st.listeners[stream].insert(who))
        return;
      auto& mine = st.joined[who.address()];
      if (mine.empty())
        self->monitor(who);
      mine.push_back(std::move(stream));
    },
    [=](caf::leave_atom, const std::string& stream, const caf::actor& who) {
      auto& st = self->state;
      auto it = st.joined.find(who.address());
      if (it == st.joined.end())
        return;
      auto& mine = it->second;
      auto pos = std::find(mine.begin(), mine.end(), stream);
      if (pos == mine.end())
        return;
      mine.erase(pos);
      forget(self, stream, who.address());
      if (mine.empty()) {
        st.joined.erase(it);
        self->demonitor(who);
      }
    },
    [=](caf::put_atom, caf::actor& cluster) { self->state.cluster = std::move(cluster); },
    [=](publish_atom, const std::vector<std::string>& streams,
        const std::vector<std::string>& messages) {
      deliver(self, metrics, streams, messages);
      if (self->state.cluster)
        tell(self, self->state.cluster, publish_atom::value, streams, messages);
    },
    [=](broadcast_atom, const std::vector<std::string>& streams,
        const std::vector<std::string>& messages) { deliver(self, metrics, streams, messages); },
  };
}

}  // namespace actorcable::actors

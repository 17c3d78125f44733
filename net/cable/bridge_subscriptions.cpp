// The subscriptions of a bridge: registering a confirmed one (its message stream, its chat's
// streams, its name at the broadcast hub), dropping one, and history requests for one.
#include "common/log.hpp"
#include "net/cable/cable_bridge.hpp"

#include <algorithm>
#include <chrono>

namespace actorcable::net {
namespace {

using namespace std::chrono_literals;

caf::actor me(bridge_ptr self) {
  return caf::actor_cast<caf::actor>(self);
}

void join_chat(bridge_ptr self, const bridge_config& cfg, std::int64_t chat_id, int attempt = 0) {
  self->request(cfg.directory, 10s, caf::join_atom::value, chat_id, me(self))
    .then([](caf::actor&) {},
          [=, &cfg](caf::error& err) {
            // The chat actor quit just as we joined: a new one is made on the next try.
            if (attempt == 0 && self->state.chat_routes.count(chat_id))
              join_chat(self, cfg, chat_id, 1);
            else
              log::warn("cable", "chat_join_failed", {{"connection", cfg.connection_id},
                                                      {"error", caf::to_string(err)}});
          });
}

// Whether another subscription of this bridge has the stream name (two identifiers can name one
// stream: their keys in another order): the hub knows a bridge once per name.
bool stream_shared(bridge_ptr self, const std::string& stream, const std::string& identifier) {
  for (auto& [id, sub] : self->state.subs)
    if (id != identifier && sub.stream == stream)
      return true;
  return false;
}

}  // namespace

void count_subscriptions(const bridge_config& cfg, std::int64_t delta) {
  if (cfg.metrics)
    cfg.metrics->subscriptions.fetch_add(delta, std::memory_order_relaxed);
}

// `identifier` no longer hears of the chat's streams; the chat actor forgets this bridge when
// no identifier of it is left.
void leave_chat_route(bridge_ptr self, const bridge_config& cfg, std::int64_t chat_id,
                      const std::string& identifier) {
  auto& routes = self->state.chat_routes;
  auto it = routes.find(chat_id);
  if (it == routes.end())
    return;
  auto& ids = it->second;
  ids.erase(std::remove(ids.begin(), ids.end(), identifier), ids.end());
  if (ids.empty()) {
    routes.erase(it);
    self->send(cfg.directory, caf::leave_atom::value, chat_id, me(self));
  }
}

void drop_subscription(bridge_ptr self, const bridge_config& cfg, const std::string& identifier) {
  auto& st = self->state;
  auto it = st.subs.find(identifier);
  if (it == st.subs.end())
    return;
  auto sub = it->second;
  st.subs.erase(it);
  count_subscriptions(cfg, -1);
  if (cfg.broadcasts && !stream_shared(self, sub.stream, identifier))
    self->send(cfg.broadcasts, caf::leave_atom::value, sub.stream, me(self));
  if (sub.target.kind == model::model_kind::account)
    return;
  if (sub.target.kind == model::model_kind::message) {
    remove_route(self, sub.target.id, identifier);
    leave_chat_route(self, cfg, sub.chat_id, identifier);  // if it awaited its stream
    return;
  }
  std::vector<std::int64_t> mids;
  for (auto& [mid, link] : st.streams)
    mids.push_back(mid);
  for (auto mid : mids)
    remove_route(self, mid, identifier);
  leave_chat_route(self, cfg, sub.chat_id, identifier);
}

// A message subscription whose row streams with no actor yet (an outside producer's answer
// before its producer came, SPEC §11) hears of its chat's streams until its own starts; the
// join lists the streams already live, so one that started meanwhile is not missed.
void await_stream(bridge_ptr self, const bridge_config& cfg, const std::string& identifier) {
  auto it = self->state.subs.find(identifier);
  if (it == self->state.subs.end() || it->second.target.kind != model::model_kind::message)
    return;
  auto& ids = self->state.chat_routes[it->second.chat_id];
  if (std::find(ids.begin(), ids.end(), identifier) != ids.end())
    return;
  ids.push_back(identifier);
  join_chat(self, cfg, it->second.chat_id);
}

// Registers a subscription and, unless `restored`, confirms it. `restored`: from a session,
// its streams wait for the client's history request instead of catching up now.
void add_subscription(bridge_ptr self, const bridge_config& cfg, const std::string& identifier,
                      std::int64_t account_id, std::int64_t chat_id,
                      std::optional<history_request> history, bool restored) {
  auto& st = self->state;
  auto target = *parse_identifier(identifier);
  auto stream = target.stream_name();
  // The hub (and for a chat the directory) hears of the subscription before the client hears of
  // its confirmation: what the client, or its application, causes once confirmed reaches it.
  if (cfg.broadcasts && !stream_shared(self, stream, identifier))
    self->send(cfg.broadcasts, caf::join_atom::value, stream, me(self));
  auto confirm = [&] {
    if (!restored)
      send_text(self, confirm_frame(identifier));
  };
  if (target.kind != model::model_kind::chat)
    confirm();  // a message's catch-up frames follow it
  auto& sub = st.subs[identifier];
  sub = subscription{target, std::move(stream), account_id, chat_id, std::move(history)};
  count_subscriptions(cfg, 1);
  if (target.kind == model::model_kind::account)
    return;
  if (target.kind == model::model_kind::message) {
    if (restored) {
      st.streams[target.id].routes.push_back(route{identifier});  // held: neither live nor tagged
      self->delayed_send(self, 2s, unhold_atom::value, identifier);
      return;
    }
    if (sub.history && cfg.extended)
      sub.catchups_pending = 1;
    catch_up(self, cfg, target.id, identifier, catchup_for(sub, target.id, cfg.extended));
    return;
  }
  auto& ids = st.chat_routes[chat_id];
  ids.push_back(identifier);
  // Joining again is harmless and makes the chat actor list its live streams for this identifier.
  if (ids.size() == 1 || target.chat_messages)
    join_chat(self, cfg, chat_id);
  confirm();
  if (sub.history && cfg.extended && !restored)
    send_text(self, confirm_history_frame(identifier));  // its streams catch up as they are announced
}

// A history request for an existing subscription: every stream it follows catches up.
void serve_history(bridge_ptr self, const bridge_config& cfg, const std::string& identifier,
                   history_request history) {
  auto& st = self->state;
  auto it = st.subs.find(identifier);
  if (it == st.subs.end() || !cfg.extended) {
    send_text(self, reject_history_frame(identifier));
    return;
  }
  auto& sub = it->second;
  sub.history = std::move(history);
  std::vector<std::pair<std::int64_t, caf::actor>> followed;
  for (auto& [mid, link] : st.streams)
    for (auto& r : link.routes)
      if (r.identifier == identifier)
        followed.emplace_back(mid, link.actor);
  if (followed.empty() && sub.target.kind == model::model_kind::message)
    followed.emplace_back(sub.target.id, caf::actor{});
  if (followed.empty()) {
    send_text(self, confirm_history_frame(identifier));
    return;
  }
  sub.catchups_pending += static_cast<int>(followed.size());
  for (auto& [mid, actor] : followed)
    catch_up(self, cfg, mid, identifier, catchup_for(sub, mid, true), actor);
}

}  // namespace actorcable::net

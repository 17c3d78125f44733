#include "net/cable_bridge.hpp"

#include "actors/stream_frames.hpp"
#include "common/log.hpp"
#include "persistence/access.hpp"
#include "persistence/pg_pool.hpp"

#include <algorithm>
#include <chrono>

namespace actorcable::net {
namespace {

using self_ptr = caf::stateful_actor<bridge_state>*;
using namespace std::chrono_literals;
using actors::stream_event;

void count(const bridge_config& cfg, std::atomic<std::int64_t> metrics::*field, std::int64_t d) {
  if (cfg.metrics)
    (cfg.metrics->*field).fetch_add(d, std::memory_order_relaxed);
}

caf::actor me(self_ptr self) {
  return caf::actor_cast<caf::actor>(self);
}

void send_text(self_ptr self, std::string text) {
  self->state.socket->send(make_frame(std::move(text)));
}

// --- message streams -----------------------------------------------------------------------

void subscribe_to(self_ptr self, const bridge_config& cfg, std::int64_t mid,
                  const caf::actor& known) {
  auto on_actor = [=](caf::actor& stream) {
    auto& st = self->state;
    auto link = st.streams.find(mid);
    if (!stream)
      return;  // not streaming here: nothing will come
    if (link == st.streams.end()) {
      self->send(stream, caf::unsubscribe_atom::value, me(self));  // unsubscribed meanwhile
      return;
    }
    if (!link->second.actor) {
      link->second.actor = stream;
      self->monitor(stream);
    }
  };
  auto on_error = [=](caf::error& err) {
    log::warn("cable", "stream_subscribe_failed", {{"connection", cfg.connection_id},
                                                   {"message_id", mid}, {"error", caf::to_string(err)}});
  };
  // want_state: the new route gets a current_state, then continues exactly from there.
  if (known)
    self->request(known, 10s, caf::subscribe_atom::value, me(self), true).then(on_actor, on_error);
  else
    self->request(cfg.directory, 10s, caf::subscribe_atom::value, mid, me(self), true)
      .then(on_actor, on_error);
}

void add_route(self_ptr self, const bridge_config& cfg, std::int64_t mid,
               const std::string& identifier, const caf::actor& known = {}) {
  auto& link = self->state.streams[mid];
  for (auto& r : link.routes)
    if (r.identifier == identifier)
      return;
  link.routes.push_back(route{identifier, true});
  subscribe_to(self, cfg, mid, link.actor ? link.actor : known);
}

void remove_route(self_ptr self, std::int64_t mid, const std::string& identifier) {
  auto& st = self->state;
  auto link = st.streams.find(mid);
  if (link == st.streams.end())
    return;
  auto& routes = link->second.routes;
  routes.erase(std::remove_if(routes.begin(), routes.end(),
                              [&](const route& r) { return r.identifier == identifier; }),
               routes.end());
  if (!routes.empty())
    return;
  if (auto& actor = link->second.actor) {
    self->send(actor, caf::unsubscribe_atom::value, me(self));
    self->demonitor(actor);
  }
  st.streams.erase(link);
}

void forward(self_ptr self, const bridge_config& cfg, const actors::stream_event_ptr& ev) {
  auto& st = self->state;
  std::string_view ext = cfg.extended ? std::string_view(ev->ext_fields) : std::string_view();
  auto emit = [&](const std::string& identifier) {
    auto frame = broadcast_frame(identifier, ev->message_json, ext);
    count(cfg, &metrics::broadcasts_total, 1);
    count(cfg, &metrics::broadcast_bytes_total, static_cast<std::int64_t>(frame.size()));
    send_text(self, std::move(frame));
  };
  if (ev->type == stream_event::kind::refresh) {
    if (auto it = st.chat_routes.find(ev->chat_id); it != st.chat_routes.end())
      for (auto& identifier : it->second)
        emit(identifier);
    return;
  }
  auto link = st.streams.find(ev->message_id);
  if (link == st.streams.end())
    return;
  for (auto& r : link->second.routes) {
    if (ev->type == stream_event::kind::state) {
      if (!r.awaiting_state)
        continue;
      r.awaiting_state = false;
    } else if (ev->type == stream_event::kind::update && r.awaiting_state) {
      continue;  // its current_state will include this chunk
    }
    emit(r.identifier);
  }
}

// --- subscriptions -------------------------------------------------------------------------

void drop_subscription(self_ptr self, const bridge_config& cfg, const std::string& identifier) {
  auto& st = self->state;
  auto it = st.subs.find(identifier);
  if (it == st.subs.end())
    return;
  auto sub = it->second;
  st.subs.erase(it);
  count(cfg, &metrics::subscriptions, -1);
  if (sub.target.kind == model::model_kind::message) {
    remove_route(self, sub.target.id, identifier);
    return;
  }
  std::vector<std::int64_t> mids;
  for (auto& [mid, link] : st.streams)
    mids.push_back(mid);
  for (auto mid : mids)
    remove_route(self, mid, identifier);
  auto& ids = st.chat_routes[sub.chat_id];
  ids.erase(std::remove(ids.begin(), ids.end(), identifier), ids.end());
  if (ids.empty()) {
    st.chat_routes.erase(sub.chat_id);
    self->send(cfg.directory, caf::leave_atom::value, sub.chat_id, me(self));
  }
}

void join_chat(self_ptr self, const bridge_config& cfg, std::int64_t chat_id, int attempt = 0) {
  self->request(cfg.directory, 10s, caf::join_atom::value, chat_id, me(self))
    .then([](caf::actor&) {},
          [=](caf::error& err) {
            // The chat actor quit just as we joined: a new one is made on the next try.
            if (attempt == 0 && self->state.chat_routes.count(chat_id))
              join_chat(self, cfg, chat_id, 1);
            else
              log::warn("cable", "chat_join_failed", {{"connection", cfg.connection_id},
                                                      {"error", caf::to_string(err)}});
          });
}

void confirm(self_ptr self, const bridge_config& cfg, const std::string& identifier,
             const persistence::access_scope& scope) {
  auto& st = self->state;
  auto target = *parse_identifier(identifier);
  st.subs[identifier] = subscription{target, scope.account_id, scope.chat_id};
  count(cfg, &metrics::subscriptions, 1);
  send_text(self, confirm_frame(identifier));
  if (target.kind == model::model_kind::message) {
    add_route(self, cfg, target.id, identifier);
    return;
  }
  auto& ids = st.chat_routes[scope.chat_id];
  ids.push_back(identifier);
  // Joining again is harmless and makes the chat actor list its live streams for this identifier.
  if (ids.size() == 1 || target.chat_messages)
    join_chat(self, cfg, scope.chat_id);
}

bool take_token(self_ptr self, const bridge_config& cfg) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto elapsed = std::chrono::duration<double>(now - st.refilled).count();
  st.refilled = now;
  st.tokens = std::min(cfg.subscribe_burst, st.tokens + elapsed * cfg.subscribe_rate);
  if (st.tokens < 1)
    return false;
  st.tokens -= 1;
  return true;
}

void handle(self_ptr self, const bridge_config& cfg, cable_command cmd) {
  auto& st = self->state;
  switch (cmd.type) {
    case command_type::subscribe: {
      if (st.subs.count(cmd.identifier)) {
        send_text(self, confirm_frame(cmd.identifier));  // idempotent
        return;
      }
      if (!take_token(self, cfg)) {
        log::warn("cable", "subscribe_rate_limited", {{"connection", cfg.connection_id}});
        send_text(self, reject_frame(cmd.identifier));
        return;
      }
      auto target = parse_identifier(cmd.identifier);
      if (!target) {
        send_text(self, reject_frame(cmd.identifier));
        return;
      }
      if (st.subs.size() >= cfg.max_subscriptions) {
        log::warn("cable", "subscription_limit",
                  {{"connection", cfg.connection_id}, {"limit", cfg.max_subscriptions}});
        send_text(self, reject_frame(cmd.identifier));
        return;
      }
      st.busy = true;
      auto bridge = me(self);
      auto pool = cfg.pool;
      auto user = cfg.user_id;
      cfg.run_blocking([bridge, pool, user, t = *target, id = cmd.identifier] {
        std::optional<persistence::access_scope> scope;
        try {
          auto conn = pool->acquire();
          scope = t.kind == model::model_kind::message
                    ? persistence::message_access(*conn, user, t.id)
                    : persistence::chat_access(*conn, user, t.id);
        } catch (const std::exception& e) {
          log::error("cable", "authorization_failed", {{"error", e.what()}});
        }
        caf::anon_send(bridge, authz_atom::value, id, scope.has_value(),
                       scope ? scope->account_id : 0, scope ? scope->chat_id : 0);
      });
      return;
    }
    case command_type::unsubscribe:
      drop_subscription(self, cfg, cmd.identifier);
      return;
    case command_type::message:
      log::debug("cable", "message_ignored", {{"connection", cfg.connection_id}});
      return;
    case command_type::pong:
      return;
    case command_type::history:
    case command_type::unknown:
      log::warn("cable", "unknown_command",
                {{"connection", cfg.connection_id}, {"command", cmd.name.substr(0, 64)}});
      return;
  }
}

void pump(self_ptr self, const bridge_config& cfg) {
  auto& st = self->state;
  while (!st.busy && !st.pending.empty()) {
    auto cmd = std::move(st.pending.front());
    st.pending.pop_front();
    handle(self, cfg, std::move(cmd));
  }
}

bool revoked_by(const subscription& sub, const actors::access_change& c, std::int64_t user_id) {
  using kind = actors::access_change::kind;
  switch (c.what) {
    case kind::membership:
      return c.user_id == user_id && c.account_id == sub.account_id;
    case kind::chat:
      return c.chat_id == sub.chat_id;
    case kind::message:
      return sub.target.kind == model::model_kind::message && sub.target.id == c.message_id;
  }
  return false;
}

}  // namespace

caf::behavior cable_bridge(self_ptr self, std::shared_ptr<cable_socket> socket,
                           bridge_config cfg) {
  self->state.socket = std::move(socket);
  self->state.tokens = cfg.subscribe_burst;
  self->state.refilled = self->clock().now();
  if (cfg.access_changes)
    self->join(cfg.access_changes);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto& [mid, link] : st.streams) {
      if (link.actor != msg.source)
        continue;
      link.actor = nullptr;
      if (msg.reason && msg.reason != caf::exit_reason::normal) {
        // The stream's actor died without ending the stream: the client must not wait forever.
        actors::stream_identity who{mid, model::encode_id(model::model_kind::message, mid), ""};
        forward(self, cfg, actors::make_end_event(who, 0, "interrupted"));
      }
      return;
    }
  });
  return {
    [=](text_atom, std::string& frame) {
      auto parsed = parse_command(frame);
      if (!parsed.command) {
        log::warn("cable", "invalid_request",
                  {{"connection", cfg.connection_id}, {"reason", parsed.error}});
        self->state.socket->close_with(make_frame(disconnect_frame("invalid_request", false)));
        return;
      }
      self->state.pending.push_back(std::move(*parsed.command));
      pump(self, cfg);
    },
    [=](authz_atom, std::string& identifier, bool allowed, std::int64_t account_id,
        std::int64_t chat_id) {
      self->state.busy = false;
      if (allowed)
        confirm(self, cfg, identifier, persistence::access_scope{account_id, chat_id});
      else
        send_text(self, reject_frame(identifier));
      pump(self, cfg);
    },
    [=](actors::frame_atom, const actors::stream_event_ptr& ev) { forward(self, cfg, ev); },
    [=](actors::chat_stream_atom, std::int64_t chat_id, std::int64_t mid, caf::actor& stream) {
      auto it = self->state.chat_routes.find(chat_id);
      if (it == self->state.chat_routes.end())
        return;
      for (auto identifier : it->second)
        if (self->state.subs[identifier].target.chat_messages)
          add_route(self, cfg, mid, identifier, stream);
    },
    [=](actors::access_atom, const actors::access_change& change) {
      std::vector<std::string> revoked;
      for (auto& [identifier, sub] : self->state.subs)
        if (revoked_by(sub, change, cfg.user_id))
          revoked.push_back(identifier);
      for (auto& identifier : revoked) {
        drop_subscription(self, cfg, identifier);
        send_text(self, reject_frame(identifier));
        log::info("cable", "subscription_revoked", {{"connection", cfg.connection_id},
                                                    {"user_id", cfg.user_id}});
      }
    },
    [=](closed_atom) {
      auto& st = self->state;
      count(cfg, &metrics::subscriptions, -static_cast<std::int64_t>(st.subs.size()));
      for (auto& [mid, link] : st.streams)
        if (link.actor)
          self->send(link.actor, caf::unsubscribe_atom::value, me(self));
      for (auto& [chat_id, ids] : st.chat_routes)
        self->send(cfg.directory, caf::leave_atom::value, chat_id, me(self));
      self->quit();
    },
  };
}

}  // namespace actorcable::net

#include "net/cable_bridge.hpp"

#include "actors/stream_frames.hpp"
#include "common/log.hpp"
#include "persistence/chats_repository.hpp"
#include "persistence/messages_repository.hpp"
#include "persistence/pg_pool.hpp"

#include <algorithm>
#include <chrono>

namespace actorcable::net {
namespace {

using self_ptr = caf::stateful_actor<bridge_state>*;
using namespace std::chrono_literals;

void count_subscriptions(const bridge_config& cfg, std::int64_t delta) {
  if (cfg.metrics)
    cfg.metrics->subscriptions.fetch_add(delta, std::memory_order_relaxed);
}

void send_text(self_ptr self, std::string text) {
  self->state.socket->send(make_frame(std::move(text)));
}

// One lookup whether the object is missing or foreign: neither answer nor work tells them apart.
bool visible(persistence::pg_pool& pool, std::int64_t user_id, const channel_target& t) {
  auto conn = pool.acquire();
  if (t.kind == model::model_kind::message)
    return persistence::find_message_for_user(*conn, user_id, t.id).has_value();
  return persistence::find_chat_for_user(*conn, user_id, t.id).has_value();
}

void attach_stream(self_ptr self, const bridge_config& cfg, std::int64_t message_id,
                   const std::string& identifier) {
  auto& ids = self->state.identifiers_of[message_id];
  ids.push_back(identifier);
  // Ask for current_state (again, when a second identifier joins): it goes to whoever waits.
  caf::actor me = caf::actor_cast<caf::actor>(self);
  self->request(cfg.directory, 10s, caf::subscribe_atom::value, message_id, me, true)
    .then(
      [=](caf::actor& stream) {
        auto& st = self->state;
        if (!stream)
          return;  // not streaming here: nothing will come
        if (!st.identifiers_of.count(message_id)) {
          self->send(stream, caf::unsubscribe_atom::value, me);  // unsubscribed meanwhile
          return;
        }
        if (st.streams.emplace(message_id, stream).second)
          self->monitor(stream);
      },
      [=](caf::error& err) {
        log::warn("cable", "stream_subscribe_failed",
                  {{"connection", cfg.connection_id}, {"message_id", message_id},
                   {"error", caf::to_string(err)}});
      });
}

void detach_identifier(self_ptr self, const bridge_config& cfg, const std::string& identifier) {
  auto& st = self->state;
  auto it = st.subs.find(identifier);
  if (it == st.subs.end())
    return;
  if (it->second.target.kind == model::model_kind::message) {
    auto mid = it->second.target.id;
    auto& ids = st.identifiers_of[mid];
    ids.erase(std::remove(ids.begin(), ids.end(), identifier), ids.end());
    if (ids.empty()) {
      st.identifiers_of.erase(mid);
      if (auto s = st.streams.find(mid); s != st.streams.end()) {
        self->send(s->second, caf::unsubscribe_atom::value, caf::actor_cast<caf::actor>(self));
        self->demonitor(s->second);
        st.streams.erase(s);
      }
    }
  }
  st.subs.erase(it);
  count_subscriptions(cfg, -1);
}

void pump(self_ptr self, const bridge_config& cfg);

void handle(self_ptr self, const bridge_config& cfg, cable_command cmd) {
  auto& st = self->state;
  switch (cmd.type) {
    case command_type::subscribe: {
      if (st.subs.count(cmd.identifier)) {
        send_text(self, confirm_frame(cmd.identifier));  // idempotent
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
      caf::actor me = caf::actor_cast<caf::actor>(self);
      auto pool = cfg.pool;
      auto user = cfg.user_id;
      cfg.run_blocking([me, pool, user, t = *target, id = cmd.identifier] {
        bool ok = false;
        try {
          ok = visible(*pool, user, t);
        } catch (const std::exception& e) {
          log::error("cable", "authorization_failed", {{"error", e.what()}});
        }
        caf::anon_send(me, authz_atom::value, id, ok);
      });
      return;
    }
    case command_type::unsubscribe:
      detach_identifier(self, cfg, cmd.identifier);
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

void forward(self_ptr self, const bridge_config& cfg, const actors::stream_event_ptr& ev) {
  auto& st = self->state;
  auto it = st.identifiers_of.find(ev->message_id);
  if (it == st.identifiers_of.end())
    return;
  std::string_view ext = cfg.extended ? std::string_view(ev->ext_fields) : std::string_view();
  for (auto& identifier : it->second) {
    auto& sub = st.subs[identifier];
    if (ev->type == actors::stream_event::kind::state) {
      if (!sub.awaiting_state)
        continue;
      sub.awaiting_state = false;
    } else if (ev->type == actors::stream_event::kind::update && sub.awaiting_state) {
      continue;  // its current_state will include this chunk
    }
    auto frame = broadcast_frame(identifier, ev->message_json, ext);
    if (cfg.metrics) {
      cfg.metrics->broadcasts_total.fetch_add(1, std::memory_order_relaxed);
      cfg.metrics->broadcast_bytes_total.fetch_add(static_cast<std::int64_t>(frame.size()),
                                                   std::memory_order_relaxed);
    }
    send_text(self, std::move(frame));
  }
}

}  // namespace

caf::behavior cable_bridge(self_ptr self, std::shared_ptr<cable_socket> socket,
                           bridge_config cfg) {
  self->state.socket = std::move(socket);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto it = st.streams.begin(); it != st.streams.end(); ++it) {
      if (it->second != msg.source)
        continue;
      auto mid = it->first;
      st.streams.erase(it);
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
    [=](authz_atom, std::string& identifier, bool allowed) {
      auto& st = self->state;
      st.busy = false;
      if (!allowed) {
        send_text(self, reject_frame(identifier));
      } else {
        auto target = *parse_identifier(identifier);
        bool is_message = target.kind == model::model_kind::message;
        st.subs[identifier] = subscription{target, is_message};
        count_subscriptions(cfg, 1);
        send_text(self, confirm_frame(identifier));
        if (is_message)
          attach_stream(self, cfg, target.id, identifier);
      }
      pump(self, cfg);
    },
    [=](actors::frame_atom, const actors::stream_event_ptr& ev) { forward(self, cfg, ev); },
    [=](closed_atom) {
      auto& st = self->state;
      count_subscriptions(cfg, -static_cast<std::int64_t>(st.subs.size()));
      for (auto& [mid, stream] : st.streams)
        self->send(stream, caf::unsubscribe_atom::value, caf::actor_cast<caf::actor>(self));
      self->quit();
    },
  };
}

}  // namespace actorcable::net

// The bridge actor's protocol side: commands, subscriptions, revocations, session restore.
#include "net/cable/cable_bridge.hpp"

#include "actors/delivery/stream_frames.hpp"
#include "common/log.hpp"
#include "net/cable/session_store.hpp"

#include <algorithm>
#include <chrono>

namespace actorcable::net {
namespace {

using namespace std::chrono_literals;
using actors::catchup;

caf::actor me(bridge_ptr self) {
  return caf::actor_cast<caf::actor>(self);
}

// A command that was ignored or refused: counted, logged once a minute per kind, and a
// connection that keeps sending them is cut.
void rejected(bridge_ptr self, const bridge_config& cfg, const char* event,
              std::string_view detail = {}) {
  auto& st = self->state;
  if (cfg.metrics)
    cfg.metrics->commands_rejected_total.fetch_add(1, std::memory_order_relaxed);
  auto r = st.budget->reject(event, self->clock().now());
  if (r.log_count > 0)
    log::warn("cable", event, {{"connection", cfg.connection_id}, {"detail", detail.substr(0, 64)},
                               {"rejected", r.log_count}});
  if (r.cut) {
    log::warn("cable", "disconnected_for_junk", {{"connection", cfg.connection_id}});
    st.socket->close_with(make_frame(disconnect_frame("invalid_request", false)));
  }
}

// A subscribe refused by a limit of [limits] (SPEC §17), counted by limit.
void limited(const bridge_config& cfg, std::atomic<std::int64_t> actorcable::metrics::*counter) {
  if (cfg.metrics)
    (cfg.metrics->*counter).fetch_add(1, std::memory_order_relaxed);
}

bool take_token(bridge_ptr self) {
  return self->state.budget->take(self->clock().now());
}

void handle(bridge_ptr self, const bridge_config& cfg, cable_command cmd) {
  auto& st = self->state;
  switch (cmd.type) {
    case command_type::subscribe: {
      if (st.subs.count(cmd.identifier)) {
        send_text(self, confirm_frame(cmd.identifier));  // idempotent
        if (cmd.history)
          serve_history(self, cfg, cmd.identifier, std::move(*cmd.history));
        return;
      }
      if (!take_token(self)) {
        rejected(self, cfg, "subscribe_rate_limited");
        send_text(self, reject_frame(cmd.identifier));
        return;
      }
      if (cfg.max_identifier_bytes > 0 && cmd.identifier.size() > cfg.max_identifier_bytes) {
        limited(cfg, &actorcable::metrics::limited_identifier_bytes);
        rejected(self, cfg, "identifier_limit");
        send_text(self, reject_frame(cmd.identifier));
        return;
      }
      auto target = parse_identifier(cmd.identifier);
      if (!target) {
        send_text(self, reject_frame(cmd.identifier));
        return;
      }
      if (cfg.max_subscriptions > 0 && st.subs.size() >= cfg.max_subscriptions) {
        limited(cfg, &actorcable::metrics::limited_subscriptions);
        rejected(self, cfg, "subscription_limit");
        send_text(self, reject_frame(cmd.identifier));
        return;
      }
      st.busy = true;
      auto bridge = me(self);
      cfg.run_blocking([bridge, store = cfg.store, user = cfg.user_id, t = *target,
                        id = cmd.identifier, history = std::move(cmd.history)] {
        std::optional<persistence::access_scope> scope;
        try {
          scope = store->access(user, t);
        } catch (const std::exception& e) {
          log::error("cable", "authorization_failed", {{"error", e.what()}});
        }
        authz_result r{id, scope.has_value(), scope ? scope->account_id : 0,
                       scope ? scope->chat_id : 0, std::move(history)};
        caf::anon_send(bridge, authz_atom::value, std::move(r));
      });
      return;
    }
    case command_type::unsubscribe:
      drop_subscription(self, cfg, cmd.identifier);
      return;
    case command_type::history:
      // A replay costs far more than the command: it takes a token like a subscribe.
      if (!take_token(self)) {
        rejected(self, cfg, "history_rate_limited");
        send_text(self, reject_history_frame(cmd.identifier));
        return;
      }
      serve_history(self, cfg, cmd.identifier, std::move(*cmd.history));
      return;
    case command_type::message: {
      // SPEC §9: {"action":"stop"} on a Message:<oid> subscription stops that answer, exactly
      // like POST /api/messages/:id/stop (the subscription proved the client may see it).
      auto sub = st.subs.find(cmd.identifier);
      if (sub != st.subs.end() && sub->second.target.kind == model::model_kind::message
          && perform_action(cmd.data) == "stop") {
        log::info("cable", "stop_requested", {{"connection", cfg.connection_id},
                                               {"message_id", sub->second.target.id}});
        caf::anon_send(cfg.directory, actors::cancel_atom::value, sub->second.target.id);
        return;
      }
      rejected(self, cfg, "message_ignored");
      return;
    }
    case command_type::pong:
      return;
    case command_type::unknown:
      rejected(self, cfg, "unknown_command", cmd.name);
      return;
  }
}

void pump(bridge_ptr self, const bridge_config& cfg) {
  auto& st = self->state;
  while (!st.busy && !st.pending.empty()) {
    auto cmd = std::move(st.pending.front());
    st.pending.pop_front();
    if (cfg.metrics)
      cfg.metrics->commands_total.fetch_add(1, std::memory_order_relaxed);
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

void welcome(bridge_ptr self, const bridge_config& cfg, const session_snapshot* restored) {
  if (!restored) {
    send_text(self, welcome_frame(cfg.extended ? cfg.sid : ""));
  } else {
    std::vector<std::string> ids;
    for (auto& s : restored->subscriptions) {
      add_subscription(self, cfg, s.identifier, s.account_id, s.chat_id, std::nullopt, true);
      ids.push_back(s.identifier);
    }
    send_text(self, restored_welcome_frame(cfg.sid, ids));
    log::info("cable", "session_restored", {{"connection", cfg.connection_id},
                                            {"subscriptions", ids.size()}});
  }
  self->state.busy = false;
  pump(self, cfg);
}

}  // namespace

caf::behavior cable_bridge(bridge_ptr self, std::shared_ptr<cable_socket> socket,
                           bridge_config config) {
  auto& st = self->state;
  // One copy per connection, in the state: the handlers capture it by reference (a copy in
  // each of a dozen closures cost an idle connection about 2 KiB).
  st.cfg = std::move(config);
  const bridge_config& cfg = st.cfg;
  st.socket = std::move(socket);
  st.budget.emplace(cfg.subscribe_rate, cfg.subscribe_burst, self->clock().now());
  if (cfg.access_changes)
    self->join(cfg.access_changes);
  if (cfg.extended && !cfg.restore_sid.empty() && cfg.sessions) {
    self->request(cfg.sessions, 5s, caf::get_atom::value, cfg.restore_sid, cfg.user_id)
      .then(
        [self, &cfg](bool found, session_snapshot& s) {
          if (!found || s.user_id != cfg.user_id) {
            welcome(self, cfg, nullptr);
            return;
          }
          // Access may have changed while the client was away (SPEC §17): every stored
          // subscription is authorized again, as a new subscribe would be.
          cfg.run_blocking([bridge = me(self), store = cfg.store, s = std::move(s)]() mutable {
            session_snapshot kept{s.user_id, {}};
            for (auto& sub : s.subscriptions) {
              auto target = parse_identifier(sub.identifier);
              std::optional<persistence::access_scope> scope;
              try {
                if (target)
                  scope = store->access(s.user_id, *target);
              } catch (const std::exception& e) {
                log::error("cable", "authorization_failed", {{"error", e.what()}});
              }
              if (scope)
                kept.subscriptions.push_back({std::move(sub.identifier), scope->account_id, scope->chat_id});
            }
            caf::anon_send(bridge, restored_atom::value, std::move(kept));
          });
        },
        [self, &cfg](caf::error&) { welcome(self, cfg, nullptr); });
  } else {
    welcome(self, cfg, nullptr);
  }
  self->set_down_handler([self, &cfg](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto& [mid, link] : st.streams) {
      if (link.actor != msg.source)
        continue;
      link.actor = nullptr;
      if (msg.reason == actors::stream_moved) {
        // Another node continues the answer (SPEC §12): each route catches up again from
        // wherever it is found now (or from the row, until it is).
        std::vector<std::string> identifiers;
        for (auto& r : link.routes)
          identifiers.push_back(r.identifier);
        for (auto& identifier : identifiers) {
          catchup whole;
          whole.how = catchup::mode::state_always;
          catch_up(self, cfg, mid, identifier, whole, caf::actor{});
        }
      } else if (msg.reason && msg.reason != caf::exit_reason::normal) {
        // The stream's actor died without ending the stream: the client must not wait forever.
        actors::stream_identity who{mid, model::encode_id(model::model_kind::message, mid), ""};
        forward(self, cfg, actors::make_end_event(who, 0, model::stream_status::interrupted));
      }
      return;
    }
  });
  return {
    [self, &cfg](text_atom, std::string& frame) {
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
    [self, &cfg](restored_atom, session_snapshot& s) { welcome(self, cfg, &s); },
    [self, &cfg](authz_atom, authz_result& r) {
      self->state.busy = false;
      if (r.allowed) {
        add_subscription(self, cfg, r.identifier, r.account_id, r.chat_id, std::move(r.history), false);
      } else {
        send_text(self, reject_frame(r.identifier));
      }
      pump(self, cfg);
    },
    [self, &cfg](actors::broadcast_atom, const std::string& stream, const std::string& message) {
      // A named stream's broadcast (SPEC §11): no offset, no history, to each identifier of it.
      for (auto& [identifier, sub] : self->state.subs)
        if (sub.stream == stream)
          send_text(self, broadcast_frame(identifier, message, ""));
    },
    [self, &cfg](actors::frame_atom, const actors::stream_event_ptr& ev) { forward(self, cfg, ev); },
    [self, &cfg](actors::frame_atom, const actors::stream_event_ptr& ev, std::uint64_t tag) {
      forward(self, cfg, ev, tag);
    },
    [self, &cfg](row_atom, const stored_row& row) {
      if (self->state.subs.count(row.identifier)) {
        auto mid = row.message_id;
        actors::stream_identity who{mid, model::encode_id(model::model_kind::message, mid), ""};
        auto send_event = [&](const actors::stream_event_ptr& ev) {
          send_text(self, broadcast_frame(row.identifier, ev->message_json,
                                          cfg.extended ? ev->ext_fields : ""));
        };
        if (row.with_state)
          send_event(actors::make_state_event(
            who, 0, {row.content, row.thinking, row.tool_status}, row.streaming));
        if (auto ended = model::parse_stream_status(row.status); !row.streaming && ended)
          send_event(actors::make_end_event(who, 0, *ended, row.usage));
        if (row.streaming)
          await_stream(self, cfg, row.identifier);
      }
      history_step_done(self, row.identifier);
    },
    [self, &cfg](unhold_atom, const std::string& identifier) {
      // A restored message route whose client sent no history request: catch up with the state.
      auto sub = self->state.subs.find(identifier);
      if (sub == self->state.subs.end() || sub->second.target.kind != model::model_kind::message)
        return;
      auto mid = sub->second.target.id;
      auto& link = self->state.streams[mid];
      for (auto& r : link.routes)
        if (r.identifier == identifier && !r.live && r.tag == 0)
          catch_up(self, cfg, mid, identifier, catchup{});
    },
    [self, &cfg](actors::chat_stream_atom, std::int64_t chat_id, std::int64_t mid, caf::actor& stream) {
      auto it = self->state.chat_routes.find(chat_id);
      if (it == self->state.chat_routes.end())
        return;
      auto identifiers = it->second;  // an awaited stream's identifier leaves the list
      for (auto& identifier : identifiers) {
        auto& sub = self->state.subs[identifier];
        if (sub.target.chat_messages) {
          catch_up(self, cfg, mid, identifier, catchup_for(sub, mid, cfg.extended), stream);
        } else if (sub.target.kind == model::model_kind::message && sub.target.id == mid) {
          catch_up(self, cfg, mid, identifier, catchup_for(sub, mid, cfg.extended), stream);
          leave_chat_route(self, cfg, chat_id, identifier);
        }
      }
    },
    [self, &cfg](actors::access_atom, const actors::access_change& change) {
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
    [self, &cfg](closed_atom) {
      auto& st = self->state;
      count_subscriptions(cfg, -static_cast<std::int64_t>(st.subs.size()));
      if (cfg.extended && cfg.sessions && !st.subs.empty()) {
        session_snapshot snapshot{cfg.user_id, {}};
        for (auto& [identifier, sub] : st.subs)
          snapshot.subscriptions.push_back({identifier, sub.account_id, sub.chat_id});
        self->send(cfg.sessions, caf::put_atom::value, cfg.sid, std::move(snapshot));
      }
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

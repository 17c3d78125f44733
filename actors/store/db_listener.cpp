#include "actors/store/db_listener.hpp"

#include "actors/broadcast/sync_notice.hpp"

#include "common/log.hpp"
#include "persistence/access.hpp"
#include "persistence/pg/pg_connection.hpp"

#include <boost/json.hpp>
#include <poll.h>

namespace actorcable::actors {

listener_state::~listener_state() = default;

namespace {

using self_ptr = db_listener_actor::stateful_pointer<listener_state>;

// Waits for notifications and forwards them; false when the connection is lost.
bool pump(self_ptr self, const listener_config& cfg) {
  auto* conn = self->state.conn->native();
  pollfd pfd{PQsocket(conn), POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(cfg.wait.count())) < 0)
    return true;
  if (PQconsumeInput(conn) == 0)
    return false;
  while (PGnotify* n = PQnotifies(conn)) {
    if (std::string_view(n->relname) == persistence::sync_channel) {
      if (auto batch = sync_broadcasts(n->extra))
        self->send(cfg.hub, broadcast_atom::value, std::move(batch->streams),
                   std::move(batch->messages));
      else
        log::warn("db_listener", "unexpected_notification", {{"payload", n->extra}});
    } else if (auto change = parse_access_change(n->extra)) {
      caf::anon_send(cfg.audience, access_atom::value, *change);  // a typed actor cannot send to a group
    } else {
      log::warn("db_listener", "unexpected_notification", {{"payload", n->extra}});
    }
    PQfreemem(n);
  }
  return PQstatus(conn) == CONNECTION_OK;
}

}  // namespace

std::optional<access_change> parse_access_change(std::string_view payload) {
  boost::json::error_code ec;
  auto v = boost::json::parse(payload, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  auto& o = v.as_object();
  auto kind = o.find("kind");
  if (kind == o.end() || !kind->value().is_string())
    return std::nullopt;
  access_change c;
  auto k = kind->value().as_string();
  if (k == "membership")
    c.what = access_change::kind::membership;
  else if (k == "chat")
    c.what = access_change::kind::chat;
  else if (k == "message")
    c.what = access_change::kind::message;
  else
    return std::nullopt;
  c.account_id = id_field(o, "account_id");
  c.user_id = id_field(o, "user_id");
  c.chat_id = id_field(o, "chat_id");
  c.message_id = id_field(o, "message_id");
  return c;
}

db_listener_actor::behavior_type db_listener(self_ptr self, listener_config cfg) {
  self->send(self, caf::tick_atom::value);
  return {
    [=](caf::tick_atom) {
      auto& conn = self->state.conn;
      try {
        if (!conn || !conn->healthy()) {
          conn = std::make_unique<persistence::pg_connection>(cfg.conninfo);
          conn->exec(std::string("LISTEN ") + persistence::access_channel);
          if (cfg.hub)
            conn->exec(std::string("LISTEN ") + persistence::sync_channel);
          log::info("db_listener", "listening", {{"sync", static_cast<bool>(cfg.hub)}});
        }
        if (pump(self, cfg)) {
          self->send(self, caf::tick_atom::value);
          return;
        }
        log::warn("db_listener", "connection_lost", {});
      } catch (const persistence::pg_error& e) {
        log::warn("db_listener", "connect_failed", {{"error", e.what()}});
      }
      conn.reset();
      self->delayed_send(self, std::chrono::seconds(1), caf::tick_atom::value);
    },
  };
}

}  // namespace actorcable::actors

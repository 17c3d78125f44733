// Listens for the database's signals: revocations (LISTEN actorcable_access), passed to every
// connection's bridge through a CAF group, and sync changes (LISTEN actorcable_sync), passed to
// this node's broadcast hub. Every node listens for itself. Detached: it waits on libpq's socket.
#pragma once
#include "actors/broadcast/hub.hpp"
#include "actors/protocol.hpp"

#include <chrono>
#include <memory>

namespace actorcable::persistence {
class pg_connection;
}

namespace actorcable::actors {

struct listener_config {
  std::string conninfo;
  caf::group audience;
  broadcast_hub_actor hub;  // sync changes; none: not listened for
  std::chrono::milliseconds wait = std::chrono::milliseconds(200);  // one poll(2) at most this long
};

struct listener_state {
  static inline const char* name = "db_listener";
  std::unique_ptr<persistence::pg_connection> conn;
  ~listener_state();
};

// Parses a notification payload; nullopt for anything unexpected.
std::optional<access_change> parse_access_change(std::string_view payload);

// (tick_atom): waits up to `wait` for notifications and passes them on, then again.
using db_listener_actor = caf::typed_actor<caf::reacts_to<caf::tick_atom>>;

db_listener_actor::behavior_type
db_listener(db_listener_actor::stateful_pointer<listener_state> self, listener_config cfg);

}  // namespace actorcable::actors

// Listens for the database's revocation signals (LISTEN actorcable_access) and passes each one
// to every connection's bridge through a CAF group. Detached: it waits on libpq's socket.
#pragma once
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
  std::chrono::milliseconds wait = std::chrono::milliseconds(200);  // one poll(2) at most this long
};

struct listener_state {
  static inline const char* name = "access_listener";
  std::unique_ptr<persistence::pg_connection> conn;
  ~listener_state();
};

// Parses a notification payload; nullopt for anything unexpected.
std::optional<access_change> parse_access_change(std::string_view payload);

caf::behavior access_listener(caf::stateful_actor<listener_state>* self, listener_config cfg);

}  // namespace actorcable::actors

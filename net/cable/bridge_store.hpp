// What a bridge reads from the database, as the bridge needs it: who may see an identifier's
// object, and the row of an answer no actor streams. The bridge calls both off the actor threads
// (bridge_config::run_blocking); the server wires them to the pool (pg_bridge_store), unit tests
// to fakes. A lookup that fails throws: the bridge refuses the subscription (or sends no state).
#pragma once
#include "model/entities.hpp"
#include "net/cable/cable_protocol.hpp"
#include "persistence/access.hpp"

#include <functional>
#include <optional>

namespace actorcable::persistence {
class pg_pool;
}

namespace actorcable::net {

struct bridge_store {
  // The account and chat through which `user_id` reads `target`; none when it may not (a
  // missing and a foreign object answer alike).
  std::function<std::optional<persistence::access_scope>(std::int64_t user_id,
                                                         const channel_target& target)>
    access;
  // The row of message `message_id`, none when there is no such row.
  std::function<std::optional<model::message>(std::int64_t message_id)> message;
};

bridge_store pg_bridge_store(persistence::pg_pool& pool);

}  // namespace actorcable::net

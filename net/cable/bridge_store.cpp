#include "net/cable/bridge_store.hpp"

#include "persistence/messages_repository.hpp"
#include "persistence/pg/pg_pool.hpp"

namespace actorcable::net {

bridge_store pg_bridge_store(persistence::pg_pool& pool) {
  bridge_store store;
  store.access = [&pool](std::int64_t user_id, const channel_target& target) {
    auto conn = pool.acquire();
    switch (target.kind) {
      case model::model_kind::message:
        return persistence::message_access(*conn, user_id, target.id);
      case model::model_kind::account:
        return persistence::account_access(*conn, user_id, target.id);
      default:
        return persistence::chat_access(*conn, user_id, target.id);
    }
  };
  store.message = [&pool](std::int64_t message_id) {
    auto conn = pool.acquire();
    return persistence::find_message(*conn, message_id);
  };
  return store;
}

}  // namespace actorcable::net

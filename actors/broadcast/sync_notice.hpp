// The database's sync signals (channel actorcable_sync, migration sync_notifications) as
// broadcasts to the seed's sync identifiers (SPEC §11): a chat created, renamed or deleted
// refreshes its account's chat list, a changed chat refreshes the chat, an answer's end reaches
// the chat as streaming_end, a message changed outside a stream refreshes the message.
#pragma once
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actorcable::actors {

struct broadcast_batch {
  std::vector<std::string> streams;   // SyncChannel stream names
  std::vector<std::string> messages;  // the broadcast's message, JSON, one per stream
};

// A notification payload's id field: its int64 value, else 0 (also read by db_listener).
std::int64_t id_field(const boost::json::object& o, std::string_view key);

// nullopt for a payload that is not a sync signal.
std::optional<broadcast_batch> sync_broadcasts(std::string_view payload);

}  // namespace actorcable::actors

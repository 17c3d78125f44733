// The ActionCable wire protocol (SPEC §5): parsing client commands, writing server frames.
// Pure functions: no sockets, no actors.
#pragma once
#include "model/obfuscated_id.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actorcable::net {

using frame_ptr = std::shared_ptr<const std::string>;

enum class command_type { subscribe, unsubscribe, message, history, pong, unknown };

struct stream_position {
  std::int64_t offset = 0;
  std::string epoch;
};

struct history_request {
  std::optional<std::int64_t> since;               // unix seconds
  std::map<std::string, stream_position> streams;  // "Message:<oid>" -> position
};

struct cable_command {
  command_type type = command_type::unknown;
  std::string name;        // the command as sent
  std::string identifier;  // exactly as sent: echoed byte for byte
  std::string data;        // `message` payload (a JSON string)
  std::optional<history_request> history;
};

struct parse_result {
  std::optional<cable_command> command;
  std::string error;  // why the frame is not a command, when `command` is empty
};

parse_result parse_command(std::string_view frame);

// The "action" of a `message` command's data (what ActionCable's `perform(action)` sends), or
// empty when the data is not an object with a string action.
std::string perform_action(std::string_view data);

// What a SyncChannel identifier points at.
struct channel_target {
  // message, chat, or account: {"model":"Account","id":"<oid>:chats"} (its chat list, the
  // only Account identifier)
  model::model_kind kind = model::model_kind::message;
  std::int64_t id = 0;
  bool chat_messages = false;  // {"model":"Chat","id":"<oid>:messages"}
  // Its stream name for broadcasts: Message:<oid>, Chat:<oid>, Chat:<oid>:messages,
  // Account:<oid>:chats.
  std::string stream_name() const;
};

// nullopt for anything that is not a SyncChannel identifier with a well-formed id.
std::optional<channel_target> parse_identifier(std::string_view identifier);

std::string welcome_frame(std::string_view sid);  // sid empty: plain protocol
// Extended protocol welcome after a session restore.
std::string restored_welcome_frame(std::string_view sid, const std::vector<std::string>& ids);
std::string confirm_history_frame(std::string_view identifier);
std::string reject_history_frame(std::string_view identifier);
std::string ping_frame(std::int64_t unix_seconds);
std::string confirm_frame(std::string_view identifier);
std::string reject_frame(std::string_view identifier);
std::string disconnect_frame(std::string_view reason, bool reconnect);
// {"identifier":..,"message":<message_json><ext_fields>}
std::string broadcast_frame(std::string_view identifier, std::string_view message_json,
                            std::string_view ext_fields);

}  // namespace actorcable::net

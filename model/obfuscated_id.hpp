// Public ids: Hashids per model class with the seed application's salts (SPEC §2).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace actorcable::model {

enum class model_kind { account, user, chat, message };

std::string_view class_name(model_kind kind);
std::optional<model_kind> kind_from_class_name(std::string_view name);

std::string encode_id(model_kind kind, std::int64_t id);
// nullopt for anything that is not a valid id of that kind (never throws).
std::optional<std::int64_t> decode_id(model_kind kind, std::string_view public_id);

// A SyncChannel stream's name: "<Class>:<oid>" plus `suffix` (":messages", ":chats"), as the
// application names it in a broadcast (SPEC §11).
std::string stream_name(model_kind kind, std::int64_t id, std::string_view suffix = {});

}  // namespace actorcable::model

#include "model/obfuscated_id.hpp"

#include "model/hashids.hpp"

#include <array>
#include <limits>

namespace actorcable::model {
namespace {

constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::size_t min_length = 6;

const hashids& codec(model_kind kind) {
  static const std::array<hashids, 4> codecs = {
    hashids("Default ID Obfuscation Salt for Account", min_length, alphabet),
    hashids("Default ID Obfuscation Salt for User", min_length, alphabet),
    hashids("Default ID Obfuscation Salt for Chat", min_length, alphabet),
    hashids("Default ID Obfuscation Salt for Message", min_length, alphabet),
  };
  return codecs[static_cast<std::size_t>(kind)];
}

}  // namespace

std::string_view class_name(model_kind kind) {
  switch (kind) {
    case model_kind::account: return "Account";
    case model_kind::user: return "User";
    case model_kind::chat: return "Chat";
    case model_kind::message: return "Message";
  }
  return "";
}

std::optional<model_kind> kind_from_class_name(std::string_view name) {
  for (auto kind : {model_kind::account, model_kind::user, model_kind::chat, model_kind::message})
    if (class_name(kind) == name)
      return kind;
  return std::nullopt;
}

std::string encode_id(model_kind kind, std::int64_t id) {
  return codec(kind).encode(static_cast<std::uint64_t>(id));
}

std::optional<std::int64_t> decode_id(model_kind kind, std::string_view public_id) {
  auto n = codec(kind).decode(public_id);
  if (!n || *n == 0 || *n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return std::nullopt;
  return static_cast<std::int64_t>(*n);
}

std::string stream_name(model_kind kind, std::int64_t id, std::string_view suffix) {
  std::string out(class_name(kind));
  out += ':';
  out += encode_id(kind, id);
  out += suffix;
  return out;
}

}  // namespace actorcable::model

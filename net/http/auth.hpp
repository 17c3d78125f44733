// Who is calling: a JWT whose `sub` is a user's obfuscated id (SPEC §3).
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace actorcable::net {

std::optional<std::int64_t> authenticate(std::string_view secret, std::string_view token);

// The token of an `Authorization: Bearer <jwt>` header value, or empty.
std::string_view bearer_token(std::string_view authorization);

}  // namespace actorcable::net

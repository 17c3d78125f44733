#include "net/http/auth.hpp"

#include "model/obfuscated_id.hpp"
#include "net/http/jwt.hpp"

#include <cctype>
#include <chrono>

namespace actorcable::net {

std::optional<std::int64_t> authenticate(std::string_view secret, std::string_view token) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
  auto sub = jwt_verify(secret, token, now);
  if (!sub)
    return std::nullopt;
  return model::decode_id(model::model_kind::user, *sub);
}

std::string_view bearer_token(std::string_view authorization) {
  // The scheme is case-insensitive (RFC 7235 §2.1).
  constexpr std::string_view prefix = "bearer ";
  if (authorization.size() <= prefix.size())
    return {};
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != prefix[i])
      return {};
  return authorization.substr(prefix.size());
}

}  // namespace actorcable::net

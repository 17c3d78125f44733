#include "net/http/auth.hpp"

#include "model/obfuscated_id.hpp"
#include "net/http/jwt.hpp"

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
  constexpr std::string_view prefix = "Bearer ";
  if (authorization.size() <= prefix.size() || authorization.substr(0, prefix.size()) != prefix)
    return {};
  return authorization.substr(prefix.size());
}

}  // namespace actorcable::net

// JSON Web Tokens, HS256 only (SPEC §3): HMAC-SHA256 through OpenSSL, constant-time compare.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace actorcable::net {

std::string jwt_sign(std::string_view secret, std::string_view subject, std::int64_t expires_at);
// An HS256 token whose payload is exactly `payload_json` (tests and fuzzing sign any claims).
std::string jwt_sign_payload(std::string_view secret, std::string_view payload_json);

// The `sub` claim of a valid token: signed with `secret` by HS256, `exp` present and later than
// `now` (unix seconds), `nbf` (if any) not later than `now`. Anything else: nullopt.
std::optional<std::string> jwt_verify(std::string_view secret, std::string_view token,
                                      std::int64_t now);

struct jwt_claims {
  std::string subject;
  std::int64_t expires_at = 0;
};
// The same, with the token's expiry.
std::optional<jwt_claims> jwt_verify_claims(std::string_view secret, std::string_view token,
                                            std::int64_t now);

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace actorcable::net

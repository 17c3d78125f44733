// Who is calling: a JWT whose `sub` is a user's obfuscated id (SPEC §3).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actorcable::net {

std::optional<std::int64_t> authenticate(std::string_view secret, std::string_view token);

struct signed_in {
  std::int64_t user_id = 0;
  std::int64_t expires_at = 0;  // unix seconds
};
std::optional<signed_in> sign_in(std::string_view secret, std::string_view token);

// The browser's session (SPEC §13, §17): a random id in an HttpOnly, SameSite=Strict cookie; the
// server keeps its SHA-256 with the user and the expiry (persistence/browser_sessions_repository).
inline constexpr std::string_view session_cookie_name = "actorcable_session";
// A new session id: 32 random bytes, base64url.
std::string new_session_id();
// The key its row is stored under (hex SHA-256), or empty when `id` is not of our shape.
std::string session_digest(std::string_view id);
// The value of cookie `name` in a Cookie header, or empty.
std::string_view cookie_value(std::string_view cookie_header, std::string_view name);
std::string session_cookie(std::string_view session_id, std::int64_t max_age_s);
std::string cleared_session_cookie();
// Whether `origin` (an Origin header) is one of `allowed` (exact, case-insensitive).
bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed);
// Whether a browser says this request comes from another site: `Sec-Fetch-Site: cross-site`, or
// an Origin or Referer (given ones only) whose origin is not one of `allowed`.
bool from_another_site(std::string_view sec_fetch_site, std::string_view origin,
                       std::string_view referer, const std::vector<std::string>& allowed);

// The token of an `Authorization: Bearer <jwt>` header value, or empty.
std::string_view bearer_token(std::string_view authorization);

}  // namespace actorcable::net

#include "net/api/sign_in.hpp"

#include "net/auth/auth.hpp"
#include "persistence/browser_sessions_repository.hpp"

#include <cctype>
#include <chrono>

namespace actorcable::net {

http_reply sign_in(persistence::pg_pool& pool, std::string_view secret, std::string_view token) {
  http_reply r{302, R"({"status":"redirect"})"};
  r.location = "/";
  auto who = net::sign_in(secret, token);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
  if (!who || who->expires_at <= now) {
    r.set_cookie = cleared_session_cookie();
    return r;
  }
  auto id = new_session_id();
  auto conn = pool.acquire();
  persistence::create_browser_session(*conn, session_digest(id), who->user_id, who->expires_at);
  r.set_cookie = session_cookie(id, who->expires_at - now);
  return r;
}

http_reply sign_out(persistence::pg_pool& pool, std::string_view session_id) {
  http_reply r{303, R"({"status":"signed out"})"};
  r.location = "/";
  r.set_cookie = cleared_session_cookie();
  if (auto digest = session_digest(session_id); !digest.empty()) {
    auto conn = pool.acquire();
    persistence::delete_browser_session(*conn, digest);
  }
  return r;
}

std::string continue_sign_in_page(std::string_view token) {
  // The token is a JWT (base64url and dots) when it verified; anything else is not echoed.
  std::string safe;
  for (char c : token)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')
      safe += c;
  return "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in</title>"
         "<meta name=\"viewport\" content=\"width=device-width\"></head><body>"
         "<p>A link from another site wants to sign this browser in to actorcable.</p>"
         "<p><a id=\"continue\" href=\"/?token=" + safe + "\">Continue signing in</a> or "
         "<a href=\"/\">keep the current session</a>.</p></body></html>";
}

}  // namespace actorcable::net

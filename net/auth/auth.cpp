#include "net/auth/auth.hpp"

#include "model/obfuscated_id.hpp"
#include "net/auth/jwt.hpp"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cctype>
#include <stdexcept>
#include <chrono>

namespace actorcable::net {

namespace {

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

std::optional<std::int64_t> authenticate(std::string_view secret, std::string_view token) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
  auto sub = jwt_verify(secret, token, now);
  if (!sub)
    return std::nullopt;
  return model::decode_id(model::model_kind::user, *sub);
}

std::optional<signed_in> sign_in(std::string_view secret, std::string_view token) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
  auto claims = jwt_verify_claims(secret, token, now);
  if (!claims)
    return std::nullopt;
  auto user = model::decode_id(model::model_kind::user, claims->subject);
  if (!user)
    return std::nullopt;
  return signed_in{*user, claims->expires_at};
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto end = header.find(';');
    auto item = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view{} : header.substr(end + 1);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    if (item.size() > name.size() && item.substr(0, name.size()) == name && item[name.size()] == '=')
      return item.substr(name.size() + 1);
  }
  return {};
}

std::string new_session_id() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw std::runtime_error("no random bytes for a session id");
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string session_digest(std::string_view id) {
  auto raw = id.size() == 43 ? base64url_decode(id) : std::nullopt;
  if (!raw || raw->size() != 32)
    return {};
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(raw->data()), raw->size(), md);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (auto b : md) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

std::string session_cookie(std::string_view session_id, std::int64_t max_age_s) {
  return std::string(session_cookie_name) + "=" + std::string(session_id)
         + "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" + std::to_string(max_age_s);
}

std::string cleared_session_cookie() {
  return std::string(session_cookie_name) + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0";
}

bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed) {
  for (auto& a : allowed)
    if (ascii_iequals(origin, a))
      return true;
  return false;
}

bool from_another_site(std::string_view sec_fetch_site, std::string_view origin,
                       std::string_view referer, const std::vector<std::string>& allowed) {
  if (ascii_iequals(sec_fetch_site, "cross-site"))
    return true;
  if (!origin.empty() && !origin_allowed(origin, allowed))
    return true;
  if (!referer.empty()) {
    // The referer's origin: scheme://host[:port], up to the first '/' after the "//".
    auto scheme_end = referer.find("://");
    auto path = scheme_end == std::string_view::npos ? std::string_view::npos
                                                     : referer.find('/', scheme_end + 3);
    if (scheme_end == std::string_view::npos || !origin_allowed(referer.substr(0, path), allowed))
      return true;
  }
  return false;
}

std::string_view bearer_token(std::string_view authorization) {
  // The scheme is case-insensitive (RFC 7235 §2.1).
  constexpr std::string_view prefix = "bearer ";
  if (authorization.size() <= prefix.size()
      || !ascii_iequals(authorization.substr(0, prefix.size()), prefix))
    return {};
  return authorization.substr(prefix.size());
}

}  // namespace actorcable::net

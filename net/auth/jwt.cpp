#include "net/auth/jwt.hpp"

#include "common/json_number.hpp"

#include <boost/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace actorcable::net {
namespace {

constexpr std::string_view alphabet =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::optional<boost::json::object> json_object(std::string_view b64) {
  auto raw = base64url_decode(b64);
  if (!raw)
    return std::nullopt;
  boost::system::error_code ec;
  auto value = boost::json::parse(*raw, ec);
  if (ec || !value.is_object())
    return std::nullopt;
  return value.as_object();
}


}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 2 < bytes.size(); i += 3) {
    auto n = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (bytes.size() - i == 1) {
    auto n = b(i) << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    auto n = (b(i) << 16) | (b(i + 1) << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    auto pos = alphabet.find(c);
    if (pos == std::string_view::npos)
      return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string jwt_sign_payload(std::string_view secret, std::string_view payload_json) {
  auto signing_input = base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "."
                       + base64url_encode(payload_json);
  return signing_input + "." + base64url_encode(hmac_sha256(secret, signing_input));
}

std::string jwt_sign(std::string_view secret, std::string_view subject, std::int64_t expires_at) {
  boost::json::object payload;
  payload["sub"] = subject;
  payload["exp"] = expires_at;
  return jwt_sign_payload(secret, boost::json::serialize(payload));
}

std::optional<std::string> jwt_verify(std::string_view secret, std::string_view token,
                                      std::int64_t now) {
  auto claims = jwt_verify_claims(secret, token, now);
  if (!claims)
    return std::nullopt;
  return std::move(claims->subject);
}

std::optional<jwt_claims> jwt_verify_claims(std::string_view secret, std::string_view token,
                                            std::int64_t now) {
  if (secret.empty() || token.size() > 8192)
    return std::nullopt;
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return std::nullopt;
  auto header = json_object(token.substr(0, dot1));
  if (!header)
    return std::nullopt;
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->value().is_string() || alg->value().as_string() != "HS256")
    return std::nullopt;
  auto signature = base64url_decode(token.substr(dot2 + 1));
  auto expected = hmac_sha256(secret, token.substr(0, dot2));
  if (!signature || signature->size() != expected.size()
      || CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0)
    return std::nullopt;
  auto payload = json_object(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload)
    return std::nullopt;
  auto exp = json_int64(*payload, "exp");
  if (!exp || *exp <= now)
    return std::nullopt;
  if (auto nbf = json_int64(*payload, "nbf"); nbf && *nbf > now)
    return std::nullopt;
  auto sub = payload->find("sub");
  if (sub == payload->end() || !sub->value().is_string())
    return std::nullopt;
  return jwt_claims{std::string(sub->value().as_string()), *exp};
}

}  // namespace actorcable::net

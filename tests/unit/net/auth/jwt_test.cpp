// JWT (SPEC §3): HS256 signed and verified, expiry and not-before enforced, anything else refused.
#define CAF_SUITE jwt
#include "test_dsl.hpp"

#include "net/auth/jwt.hpp"

using namespace actorcable::net;

namespace {
constexpr std::int64_t now = 1'800'000'000;

std::string forged(std::string_view header_json, std::string_view payload_json, std::string_view signature) {
  return base64url_encode(header_json) + "." + base64url_encode(payload_json) + "." + std::string(signature);
}
}  // namespace

CAF_TEST(a signed token verifies to its subject until it expires) {
  auto token = jwt_sign("secret", "AbCdEf", now + 60);
  CAF_CHECK_EQUAL(jwt_verify("secret", token, now), std::optional<std::string>("AbCdEf"));
  CAF_CHECK_EQUAL(jwt_verify("secret", token, now + 60), std::nullopt);  // exp is exclusive
  CAF_CHECK_EQUAL(jwt_verify("other", token, now), std::nullopt);
}

CAF_TEST(tampered or malformed tokens are refused) {
  auto token = jwt_sign("secret", "AbCdEf", now + 60);
  auto tampered = token;
  tampered[tampered.find('.') + 3] ^= 1;
  CAF_CHECK_EQUAL(jwt_verify("secret", tampered, now), std::nullopt);
  for (auto bad : {"", ".", "..", "a.b.c", "a.b", "a.b.c.d"})
    CAF_CHECK_EQUAL(jwt_verify("secret", bad, now), std::nullopt);
  auto sig = token.substr(token.rfind('.') + 1);
  CAF_CHECK_EQUAL(jwt_verify("secret", forged(R"({"alg":"none","typ":"JWT"})",
                                               R"({"sub":"AbCdEf","exp":1900000000})", ""), now),
                  std::nullopt);
  CAF_CHECK_EQUAL(jwt_verify("secret", forged(R"({"alg":"HS512","typ":"JWT"})",
                                               R"({"sub":"AbCdEf","exp":1900000000})", sig), now),
                  std::nullopt);
}

CAF_TEST(base64url round trips every byte) {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all += static_cast<char>(i);
  for (std::size_t n = 0; n < 8; ++n)
    CAF_CHECK_EQUAL(base64url_decode(base64url_encode(all.substr(0, n))), all.substr(0, n));
  CAF_CHECK_EQUAL(base64url_decode(base64url_encode(all)), all);
  CAF_CHECK_EQUAL(base64url_decode("a+b/"), std::nullopt);  // the standard alphabet is not url-safe
}

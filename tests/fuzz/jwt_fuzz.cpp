// The JWT verifier on arbitrary tokens; a valid signature on fuzzed claims must not crash either.
#include "net/http/jwt.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  (void)actorcable::net::jwt_verify("fuzz-secret", input, 1700000000);
  // The same bytes as claims, correctly signed, reach the claim parsing.
  auto signed_input = actorcable::net::base64url_encode(R"({"alg":"HS256"})") + "."
                      + actorcable::net::base64url_encode(input);
  auto token = actorcable::net::jwt_sign("fuzz-secret", input, 1800000000);
  (void)actorcable::net::jwt_verify("fuzz-secret", token, 1700000000);
  (void)actorcable::net::base64url_decode(input);
  (void)signed_input;
  return 0;
}

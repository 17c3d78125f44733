// The JWT verifier on arbitrary tokens, and on arbitrary claims behind a valid signature (so the
// claim parsing after the signature check is fuzzed too). A signed subject must come back whole.
#include "net/auth/jwt.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace actorcable::net;
  std::string input(reinterpret_cast<const char*>(data), size);
  (void)jwt_verify("fuzz-secret", input, 1700000000);
  (void)base64url_decode(input);
  // The bytes as the claims of a correctly signed token.
  (void)jwt_verify_claims("fuzz-secret", jwt_sign_payload("fuzz-secret", input), 1700000000);
  // The bytes as a subject: signed, then verified, it is the same subject.
  auto token = jwt_sign("fuzz-secret", input, 1800000000);
  auto subject = jwt_verify("fuzz-secret", token, 1700000000);
  bool utf8_safe = true;  // Boost.JSON serialises invalid UTF-8 as it is: compare only valid text
  for (unsigned char c : input)
    utf8_safe &= c < 0x80;
  if (utf8_safe && (!subject || *subject != input))
    std::abort();
  return 0;
}

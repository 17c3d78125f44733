#define CAF_SUITE utf8
#include "test_dsl.hpp"

#include "model/utf8.hpp"

using actorcable::model::sanitize_utf8;

CAF_TEST(valid text passes unchanged) {
  std::string s = "plain, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80";
  CAF_CHECK_EQUAL(sanitize_utf8(s), s);
}

CAF_TEST(invalid sequences become replacement characters) {
  const std::string r = "\xEF\xBF\xBD";
  CAF_CHECK_EQUAL(sanitize_utf8("a\xFF" "b"), "a" + r + "b");
  CAF_CHECK_EQUAL(sanitize_utf8("\xC0\xAF"), r + r);              // overlong
  CAF_CHECK_EQUAL(sanitize_utf8("\xED\xA0\x80"), r + r + r);      // surrogate
  CAF_CHECK_EQUAL(sanitize_utf8("x\xE2\x82"), "x" + r);           // truncated at the end
  CAF_CHECK_EQUAL(sanitize_utf8("\xE2\x82" "A"), r + "A");        // truncated in the middle
  CAF_CHECK_EQUAL(sanitize_utf8(std::string("a\0b", 3)), "ab");   // NUL cannot be stored
}

CAF_TEST(valid_utf8 accepts well formed text and refuses the rest) {
  using actorcable::model::valid_utf8;
  CAF_CHECK(valid_utf8("plain, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80"));
  CAF_CHECK(valid_utf8(std::string("a\0b", 3)));
  CAF_CHECK(!valid_utf8("a\xFF" "b"));
  CAF_CHECK(!valid_utf8("\xC0\xAF"));
  CAF_CHECK(!valid_utf8("\xED\xA0\x80"));
  CAF_CHECK(!valid_utf8("x\xE2\x82"));
  CAF_CHECK(!valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
}

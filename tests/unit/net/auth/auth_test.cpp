// Who a browser is (SPEC §13, §17): session ids are random and stored by digest only, a sign-in
// link from another site is told apart, and only loopback may carry the cluster without TLS.
#define CAF_SUITE auth
#include "test_dsl.hpp"

#include "common/host_port.hpp"
#include "net/auth/auth.hpp"

#include <set>

using namespace actorcable;
using namespace actorcable::net;

CAF_TEST(session ids are 32 random bytes whose digest is 64 hex digits and differs per id) {
  std::set<std::string> ids, digests;
  for (int i = 0; i < 100; ++i) {
    auto id = new_session_id();
    CAF_CHECK_EQUAL(id.size(), 43u);  // base64url of 32 bytes
    auto d = session_digest(id);
    CAF_REQUIRE_EQUAL(d.size(), 64u);
    CAF_CHECK(d.find_first_not_of("0123456789abcdef") == std::string::npos);
    CAF_CHECK_EQUAL(session_digest(id), d);  // stable
    CAF_CHECK(d.find(id) == std::string::npos);
    ids.insert(id);
    digests.insert(d);
  }
  CAF_CHECK_EQUAL(ids.size(), 100u);
  CAF_CHECK_EQUAL(digests.size(), 100u);
}

CAF_TEST(anything that is not a session id has no digest and so reaches no query) {
  for (const std::string& bad : std::vector<std::string>{"", "abc", std::string(42, 'A'), std::string(44, 'A'), std::string(43, '!'),
                          std::string("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")})
    CAF_CHECK_EQUAL(session_digest(bad), "");
}

CAF_TEST(a sign-in link is from another site by Sec-Fetch-Site or a foreign Origin or Referer) {
  const std::vector<std::string> allowed{"http://127.0.0.1:8080"};
  CAF_CHECK(!from_another_site("", "", "", allowed));  // curl, a typed address
  CAF_CHECK(!from_another_site("none", "", "", allowed));
  CAF_CHECK(!from_another_site("same-origin", "http://127.0.0.1:8080", "http://127.0.0.1:8080/x", allowed));
  CAF_CHECK(from_another_site("cross-site", "", "", allowed));
  CAF_CHECK(from_another_site("CROSS-SITE", "", "", allowed));
  CAF_CHECK(from_another_site("", "https://evil.example", "", allowed));
  CAF_CHECK(from_another_site("", "", "https://evil.example/page?x=http://127.0.0.1:8080/", allowed));
  CAF_CHECK(from_another_site("", "", "http://127.0.0.1:8080.evil.example/", allowed));
  CAF_CHECK(from_another_site("", "", "not a url", allowed));
  CAF_CHECK(!from_another_site("", "", "http://127.0.0.1:8080", allowed));
}

CAF_TEST(session cookies are HttpOnly and SameSite Strict and a cleared one expires at once) {
  auto c = session_cookie("abc", 60);
  CAF_CHECK_EQUAL(c, "actorcable_session=abc; HttpOnly; SameSite=Strict; Path=/; Max-Age=60");
  CAF_CHECK(cleared_session_cookie().find("Max-Age=0") != std::string::npos);
  CAF_CHECK_EQUAL(cookie_value("a=1; actorcable_session=xyz; b=2", session_cookie_name), "xyz");
  CAF_CHECK_EQUAL(cookie_value("actorcable_sessionx=1", session_cookie_name), "");
}

CAF_TEST(only loopback addresses may carry a cluster without TLS) {
  for (auto host : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"})
    CAF_CHECK(is_loopback(host));
  for (auto host : {"0.0.0.0", "::", "10.0.0.1", "127.0.0.1.evil", "127.0.0", "128.0.0.1", "", "127.a.0.1"})
    CAF_CHECK(!is_loopback(host));
}

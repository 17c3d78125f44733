// Errors as values: a code to branch on, the words for people and the row, and a rendering in
// logs that names both.
#define CAF_SUITE errors
#include "test_dsl.hpp"

#include "actors/errors.hpp"

using namespace actorcable::actors;

CAF_TEST(an error keeps its code and its words) {
  auto e = make_error(errc::no_provider, "no provider serves the chat's models");
  CAF_REQUIRE(error_code(e));
  CAF_CHECK(*error_code(e) == errc::no_provider);
  CAF_CHECK_EQUAL(error_words(e), "no provider serves the chat's models");
}

CAF_TEST(errors of CAF itself have no code here and are told in CAF words) {
  caf::error timeout = caf::sec::request_timeout;
  CAF_CHECK(!error_code(timeout));
  CAF_CHECK(!error_code(caf::error{}));
  CAF_CHECK_EQUAL(error_words(timeout), caf::to_string(timeout));
}

CAF_TEST(a system that knows the category renders code and words) {
  caf::actor_system_config cfg;
  add_error_category(cfg);
  caf::actor_system sys{cfg};
  auto e = make_error(errc::database_unreachable, "database unreachable");
  CAF_CHECK_EQUAL(sys.render(e), "actorcable: database_unreachable (database unreachable)");
}

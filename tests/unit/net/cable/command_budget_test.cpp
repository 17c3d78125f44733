// A connection's command budget: the token bucket for subscribe and history, and the account of
// rejected commands (logged once a minute per kind, the connection cut past a sustained burst).
#define CAF_SUITE command_budget
#include "test_dsl.hpp"

#include "net/cable/command_budget.hpp"

using namespace actorcable::net;
using namespace std::chrono_literals;

CAF_TEST(the bucket gives its burst then refills at its rate) {
  command_budget::time_point t0{};
  command_budget b(2, 3, t0);
  CAF_CHECK(b.take(t0));
  CAF_CHECK(b.take(t0));
  CAF_CHECK(b.take(t0));
  CAF_CHECK(!b.take(t0));
  CAF_CHECK(!b.take(t0 + 400ms));  // 0.8 tokens
  CAF_CHECK(b.take(t0 + 500ms));   // 1.0
  CAF_CHECK(b.take(t0 + 10s));     // refilled, but never past the burst
  CAF_CHECK(b.take(t0 + 10s));
  CAF_CHECK(b.take(t0 + 10s));
  CAF_CHECK(!b.take(t0 + 10s));
}

CAF_TEST(each kind of rejection is logged once a minute with the count it stands for) {
  command_budget::time_point t0{};
  command_budget b(1, 1, t0);
  CAF_CHECK_EQUAL(b.reject("unknown_command", t0).log_count, 1);
  CAF_CHECK_EQUAL(b.reject("unknown_command", t0 + 1s).log_count, 0);
  CAF_CHECK_EQUAL(b.reject("subscription_limit", t0 + 1s).log_count, 1);  // another kind
  CAF_CHECK_EQUAL(b.reject("unknown_command", t0 + 30s).log_count, 0);
  CAF_CHECK_EQUAL(b.reject("unknown_command", t0 + 61s).log_count, 3);
}

CAF_TEST(a sustained flood of rejected commands cuts the connection once) {
  command_budget::time_point t0{};
  command_budget b(1, 1, t0);
  int cuts = 0, sent = 0;
  for (; sent < 1000; ++sent)
    cuts += b.reject("unknown_command", t0).cut ? 1 : 0;
  CAF_CHECK_EQUAL(cuts, 1);
  // A client that makes a mistake now and then (slower than the refill) is never cut.
  command_budget slow(1, 1, t0);
  for (int i = 0; i < 10000; ++i)
    CAF_CHECK(!slow.reject("unknown_command", t0 + i * 100ms).cut);
}

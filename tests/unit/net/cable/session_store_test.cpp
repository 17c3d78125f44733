// The extended protocol's session store through its typed interface: a session is restored once,
// only to its own user, and not after its time to live; a newer snapshot under the same sid outlives the older timer.
#define CAF_SUITE session_store
#include "test_dsl.hpp"

#include "net/cable/session_store.hpp"

using namespace actorcable::net;

namespace {

constexpr auto ttl = std::chrono::seconds(5);

struct fixture : test_coordinator_fixture<> {
  actorcable::metrics stats;
  session_store_actor store = sys.spawn(session_store, caf::timespan{ttl}, session_limits{3, 2000}, &stats);

  void put(const std::string& sid, std::int64_t user, std::size_t identifier_bytes = 0) {
    session_snapshot snapshot;
    snapshot.user_id = user;
    snapshot.subscriptions.push_back({"{\"channel\":\"X\"}", 7, 9});
    if (identifier_bytes > 0)
      snapshot.subscriptions.push_back({std::string(identifier_bytes, 'i'), 7, 9});
    self->send(store, caf::put_atom::value, sid, std::move(snapshot));
    consume_messages();  // the messages only: run() would fire the expiry timers too
  }

  // (found, snapshot) as the store answers a restore.
  std::pair<bool, session_snapshot> get(const std::string& sid, std::int64_t user) {
    auto pending = self->request(store, caf::infinite, caf::get_atom::value, sid, user);
    consume_messages();
    std::pair<bool, session_snapshot> out{false, {}};
    pending.receive([&](bool found, session_snapshot& s) { out = {found, std::move(s)}; },
                    [&](caf::error& err) { CAF_FAIL(caf::to_string(err)); });
    return out;
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(session_store_tests, fixture)

CAF_TEST(a session is restored once with what was stored) {
  put("sid-1", 42);
  auto [found, s] = get("sid-1", 42);
  CAF_CHECK(found);
  CAF_CHECK_EQUAL(s.user_id, 42);
  CAF_REQUIRE_EQUAL(s.subscriptions.size(), 1u);
  CAF_CHECK_EQUAL(s.subscriptions[0].identifier, "{\"channel\":\"X\"}");
  CAF_CHECK_EQUAL(s.subscriptions[0].account_id, 7);
  CAF_CHECK_EQUAL(s.subscriptions[0].chat_id, 9);
  CAF_CHECK(!get("sid-1", 42).first);
  CAF_CHECK(!get("never-stored", 42).first);
  CAF_CHECK_EQUAL(stats.sessions_stored_total.load(), 1);
  CAF_CHECK_EQUAL(stats.sessions_restored_total.load(), 1);
}

CAF_TEST(another user presenting a sid finds nothing and leaves the session to its owner) {
  put("sid-2", 42);
  CAF_CHECK(!get("sid-2", 43).first);
  auto [found, s] = get("sid-2", 42);
  CAF_CHECK(found);
  CAF_CHECK_EQUAL(s.user_id, 42);
  CAF_CHECK_EQUAL(stats.sessions_restored_total.load(), 1);
}

CAF_TEST(a session expires after its time to live and a newer one under the sid survives the old timer) {
  put("old", 1);
  sched.advance_time(ttl);
  consume_messages();
  CAF_CHECK(!get("old", 1).first);
  put("sid", 1);
  sched.advance_time(ttl / 2);
  consume_messages();
  put("sid", 2);  // stored again (the client reconnected and left again)
  sched.advance_time(ttl / 2);  // the first snapshot's timer fires: it must not drop the second
  consume_messages();
  auto [found, s] = get("sid", 2);
  CAF_CHECK(found);
  CAF_CHECK_EQUAL(s.user_id, 2);
}

// SPEC §17: stored sessions are bounded per user, in count and in bytes; the oldest go first.
CAF_TEST(a user past the count or the bytes loses their oldest sessions and not those of others) {
  put("other", 2);
  for (int i = 1; i <= 5; ++i)
    put("s" + std::to_string(i), 1);
  CAF_CHECK(!get("s1", 1).first);
  CAF_CHECK(!get("s2", 1).first);
  CAF_CHECK(get("s3", 1).first);
  CAF_CHECK(get("s4", 1).first);
  CAF_CHECK(get("s5", 1).first);
  CAF_CHECK(get("other", 2).first);
  CAF_CHECK_EQUAL(stats.limited_sessions.load(), 2);
  put("small", 1);
  put("big", 1, 1800);  // with "small" over 2,000 bytes: "small" goes
  CAF_CHECK(!get("small", 1).first);
  CAF_CHECK(get("big", 1).first);
  put("huge", 1, 5000);  // larger than the whole budget: not stored
  CAF_CHECK(!get("huge", 1).first);
  CAF_CHECK_EQUAL(stats.limited_sessions.load(), 4);
  // Everything restored or dropped: the store's per-user accounting is empty too.
  using impl = std::remove_pointer_t<session_store_actor::stateful_pointer<session_store_state>>;
  auto& st = deref<impl>(store).state;
  CAF_CHECK(st.sessions.empty());
  CAF_CHECK(st.users.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()

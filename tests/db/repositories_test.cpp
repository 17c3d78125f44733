// Repositories against real PostgreSQL: visibility through memberships, exchanges, history.
#define CAF_SUITE repositories
#include "test_dsl.hpp"

#include "persistence/chats_repository.hpp"
#include "persistence/messages_repository.hpp"
#include "persistence/nodes_repository.hpp"
#include "persistence/pg/pg_pool.hpp"
#include "persistence/stream_store.hpp"
#include "persistence/users_repository.hpp"
#include "test_database.hpp"

#include <chrono>
#include <thread>

using namespace actorcable::persistence;

namespace {
struct fixture {
  std::string conninfo = actorcable::testing::create_migrated_database();
  pg_connection conn{conninfo};
};
}  // namespace

CAF_TEST_FIXTURE_SCOPE(repository_tests, fixture)

CAF_TEST(a user gets one personal account however often it is ensured) {
  auto a = ensure_user_with_account(conn, "ann@example.com");
  auto b = ensure_user_with_account(conn, "ann@example.com");
  CAF_CHECK_EQUAL(a.id, b.id);
  CAF_CHECK_EQUAL(conn.exec("SELECT count(*) FROM memberships WHERE user_id = $1",
                            {param(a.id)}).int64(0, 0), 1);
  CAF_CHECK(default_account_id(conn, a.id).has_value());
}

CAF_TEST(chats and messages are visible only through a confirmed membership) {
  auto owner = ensure_user_with_account(conn, "owner@example.com");
  auto member = ensure_user_with_account(conn, "member@example.com");
  auto invitee = ensure_user_with_account(conn, "invitee@example.com");
  auto outsider = ensure_user_with_account(conn, "outsider@example.com");
  auto account = *default_account_id(conn, owner.id);
  add_membership(conn, account, member.id, "member", true);
  add_membership(conn, account, invitee.id, "member", false);
  auto chat = create_chat(conn, account, "plans");
  auto ex = create_exchange(conn, chat.id, owner.id, "hello", "node-a", 10);
  for (auto uid : {owner.id, member.id}) {
    CAF_CHECK(find_chat_for_user(conn, uid, chat.id).has_value());
    CAF_CHECK(find_message_for_user(conn, uid, ex.answer.id).has_value());
    CAF_CHECK_EQUAL(chats_visible_to(conn, uid).size(), 1u);
  }
  for (auto uid : {invitee.id, outsider.id}) {
    CAF_CHECK(!find_chat_for_user(conn, uid, chat.id).has_value());
    CAF_CHECK(!find_message_for_user(conn, uid, ex.answer.id).has_value());
    CAF_CHECK(!find_message_for_user(conn, uid, ex.question.id).has_value());
  }
  CAF_CHECK_EQUAL(chats_visible_to(conn, outsider.id).size(), 0u);
  remove_membership(conn, account, member.id);
  CAF_CHECK(!find_chat_for_user(conn, member.id, chat.id).has_value());
}

CAF_TEST(an exchange creates the question and a streaming answer together) {
  auto user = ensure_user_with_account(conn, "q@example.com");
  auto chat = create_chat(conn, *default_account_id(conn, user.id), "t");
  std::string sqlish = "'); DROP TABLE messages; --";
  auto ex = create_exchange(conn, chat.id, user.id, sqlish, "node-a", 10);
  CAF_CHECK_EQUAL(ex.question.content, sqlish);
  CAF_CHECK_EQUAL(ex.question.role, "user");
  CAF_CHECK(ex.answer.streaming);
  CAF_CHECK_EQUAL(ex.answer.role, "assistant");
  auto all = messages_of_chat(conn, chat.id);
  CAF_REQUIRE_EQUAL(all.size(), 2u);
  CAF_CHECK_EQUAL(all[0].id, ex.question.id);
  auto history = chat_history(conn, chat.id, ex.answer.id, 100000);
  CAF_REQUIRE_EQUAL(history.size(), 1u);
  CAF_CHECK_EQUAL(history[0].content, sqlish);
}

CAF_TEST(history keeps the newest turns within the budget) {
  auto user = ensure_user_with_account(conn, "h@example.com");
  auto chat = create_chat(conn, *default_account_id(conn, user.id), "t");
  for (int i = 0; i < 5; ++i)
    create_exchange(conn, chat.id, user.id, std::string(10, 'a' + i), "n", 10);
  auto last = create_exchange(conn, chat.id, user.id, "final", "n", 10);
  auto turns = chat_history(conn, chat.id, last.answer.id, 25);
  // The answers were left streaming (empty): they come as turns to be filled in later.
  std::vector<actorcable::model::chat_turn> history;
  for (auto& t : turns)
    if (!t.content.empty())
      history.push_back(t);
    else
      CAF_CHECK_EQUAL(t.role, "assistant");
  CAF_REQUIRE_EQUAL(history.size(), 3u);
  CAF_CHECK_EQUAL(history.back().content, "final");
  CAF_CHECK_EQUAL(history.front().content, std::string(10, 'd'));
}

CAF_TEST(history of a chat with huge messages reads only the budget) {
  auto user = ensure_user_with_account(conn, "big@example.com");
  auto chat = create_chat(conn, *default_account_id(conn, user.id), "t");
  for (int i = 0; i < 3; ++i)
    create_exchange(conn, chat.id, user.id, std::string(200000, 'a' + i), "n", 10);
  auto last = create_exchange(conn, chat.id, user.id, std::string(300000, 'z'), "n", 10);
  auto history = chat_history(conn, chat.id, last.answer.id, 1000);
  CAF_REQUIRE_EQUAL(history.size(), 1u);  // the newest turn alone, cut to the budget
  CAF_CHECK_EQUAL(history[0].content, std::string(1000, 'z'));
}

CAF_TEST(a chat is read in pages newest first bounded in count and bytes) {
  auto user = ensure_user_with_account(conn, "pages@example.com");
  auto chat = create_chat(conn, *default_account_id(conn, user.id), "t");
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    auto ex = create_exchange(conn, chat.id, user.id, std::string(100, 'a' + i), "n", 10);
    ids.push_back(ex.question.id);
    ids.push_back(ex.answer.id);
  }
  auto first = page_of_chat(conn, chat.id, std::nullopt, 4, 1 << 20);
  CAF_REQUIRE_EQUAL(first.messages.size(), 4u);
  CAF_CHECK_EQUAL(first.messages.front().id, ids[6]);  // oldest first within the page
  CAF_CHECK_EQUAL(first.messages.back().id, ids[9]);
  CAF_REQUIRE(first.older);
  CAF_CHECK_EQUAL(*first.older, ids[6]);
  auto second = page_of_chat(conn, chat.id, first.older, 4, 250);  // two 100-byte questions fit
  CAF_REQUIRE_EQUAL(second.messages.size(), 4u);  // answers are empty: 0 bytes each
  CAF_CHECK_EQUAL(second.messages.front().id, ids[2]);
  auto last = page_of_chat(conn, chat.id, second.older, 4, 1 << 20);
  CAF_REQUIRE_EQUAL(last.messages.size(), 2u);
  CAF_CHECK_EQUAL(last.messages.front().id, ids[0]);
  CAF_CHECK(!last.older);
  auto bytes = page_of_chat(conn, chat.id, std::nullopt, 10, 150);
  CAF_CHECK_EQUAL(bytes.messages.size(), 3u);  // 0 + 100 + 0 bytes; the next question passes 150
  auto newest = page_of_chat(conn, chat.id, ids[9], 10, 50);
  CAF_REQUIRE_EQUAL(newest.messages.size(), 1u);  // over the byte bound, but the newest always
  CAF_CHECK_EQUAL(newest.messages.front().id, ids[8]);
}

CAF_TEST(a killed connection fails clearly and the pool reconnects) {
  pg_pool pool(conninfo, 1);
  // Waits until the server has really ended that backend (pg_terminate_backend only signals it).
  auto kill_backend = [&](std::int64_t pid) {
    conn.exec("SELECT pg_terminate_backend($1)", {param(pid)});
    for (int i = 0; i < 500; ++i) {
      if (conn.exec("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", {param(pid)}).int64(0, 0) == 0)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // bounded: the server gives no event
    }
    CAF_FAIL("backend " << pid << " did not end");
  };
  bool lost = false;
  {
    auto c = pool.acquire();  // in use while the server goes away under it
    kill_backend(c->exec("SELECT pg_backend_pid()").int64(0, 0));
    try {
      c->exec("SELECT 1");
    } catch (const pg_error& e) {
      lost = e.connection_lost();
      CAF_MESSAGE("error as reported: " << e.what());
    }
  }
  CAF_CHECK(lost);
  auto c = pool.acquire();  // the broken one was dropped: a new connection
  CAF_CHECK_EQUAL(c->exec("SELECT 41 + 1").int64(0, 0), 42);
}

CAF_TEST(membership lists the other nodes renewed within the lease and forgets a retired one) {
  heartbeat_node(conn, "node-a", "127.0.0.1:7001");
  heartbeat_node(conn, "node-b", "127.0.0.1:7002");
  heartbeat_node(conn, "node-c", "127.0.0.1:7003");
  heartbeat_node(conn, "node-b", "127.0.0.1:7012");  // restarted on another port
  // node-c stopped renewing 7 s ago: past a 6 s lease.
  conn.exec("UPDATE cluster_nodes SET heartbeat_at = now() - interval '7 seconds' WHERE name = 'node-c'");
  auto live = live_nodes(conn, "node-a", 6);
  CAF_REQUIRE_EQUAL(live.size(), 1u);
  CAF_CHECK_EQUAL(live[0].name, "node-b");
  CAF_CHECK_EQUAL(live[0].address, "127.0.0.1:7012");
  CAF_CHECK_EQUAL(live_nodes(conn, "node-c", 6).size(), 2u);
  remove_node(conn, "node-b");
  CAF_CHECK_EQUAL(live_nodes(conn, "node-a", 6).size(), 0u);
  heartbeat_node(conn, "node-c", "127.0.0.1:7003");  // back: listed again
  CAF_CHECK_EQUAL(live_nodes(conn, "node-a", 6).size(), 1u);
}

CAF_TEST(an answer for an outside producer is unowned until claimed and a live lease elsewhere is not taken) {
  auto owner = ensure_user_with_account(conn, "producer@example.com");
  auto chat = create_chat(conn, *default_account_id(conn, owner.id), "ingest");
  auto answer = create_ingest_answer(conn, chat.id, "my-agent");
  CAF_REQUIRE(answer.has_value());
  CAF_CHECK_EQUAL(answer->role, "assistant");
  CAF_CHECK(answer->streaming);
  CAF_CHECK_EQUAL(answer->model_id, "my-agent");
  CAF_CHECK(!create_ingest_answer(conn, 987654321, "").has_value());
  auto row = [&] {
    return conn.exec("SELECT coalesce(owner_node, ''), lease_expires_at IS NULL FROM messages WHERE id = $1",
                     {param(answer->id)});
  };
  CAF_CHECK_EQUAL(row().text(0, 0), "");
  CAF_CHECK(claim_stream(conn, answer->id, "node-a", 60));
  CAF_CHECK_EQUAL(row().text(0, 0), "node-a");
  CAF_CHECK(claim_stream(conn, answer->id, "node-a", 60));   // its owner may claim it again
  CAF_CHECK(!claim_stream(conn, answer->id, "node-b", 60));  // another node may not, while the lease runs
  conn.exec("UPDATE messages SET lease_expires_at = now() - interval '1 second' WHERE id = $1",
            {param(answer->id)});
  CAF_CHECK(claim_stream(conn, answer->id, "node-b", 60));   // once it ran out, it may
  CAF_CHECK_EQUAL(row().text(0, 0), "node-b");
}

CAF_TEST_FIXTURE_SCOPE_END()

// The writer against real PostgreSQL: coalesced appends, exact final write, fencing.
#define CAF_SUITE stream_writer
#include "test_dsl.hpp"

#include "actors/store/stream_writer.hpp"
#include "persistence/chats_repository.hpp"
#include "persistence/messages_repository.hpp"
#include "persistence/users_repository.hpp"
#include "writer_fixture.hpp"

using namespace actorcable;
using namespace actorcable::actors;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::writer_fixture {
  persistence::exchange ex;

  fixture() {
    auto user = persistence::ensure_user_with_account(conn, "w@example.com");
    auto chat = persistence::create_chat(conn, *persistence::default_account_id(conn, user.id), "t");
    ex = persistence::create_exchange(conn, chat.id, user.id, "q", "node-a", 10);
  }
  bool finish(stream_close close) {
    bool written = false;
    self->request(writer, 10s, finish_atom::value, std::move(close))
      .receive([&](bool ok) { written = ok; },
               [&](caf::error& err) { CAF_FAIL("finish failed: " << caf::to_string(err)); });
    return written;
  }
  // Another node's writer, whose continuations (SPEC §12) are told to this test.
  // Its lease is short (1 s, renewed every 200 ms): it judges other nodes' rows a lease after
  // it first reached the database, and the suite does not wait 6 s for that.
  stream_writer_actor node(const std::string& name) {
    writer_config cfg{conninfo, name};
    cfg.lease_seconds = 1;
    cfg.lease_renew_interval = std::chrono::milliseconds(200);
    auto w = sys.spawn<caf::detached>(stream_writer, cfg);
    self->send(w, caf::put_atom::value, caf::actor_cast<caf::actor>(self));
    others.push_back(w);
    return w;
  }
  std::vector<stream_writer_actor> others;
  ~fixture() {
    for (auto& w : others)
      self->send_exit(w, caf::exit_reason::user_shutdown);
  }
  // The continuation a writer hands its observer (none within `within`: nullopt).
  std::optional<job_spec> continuation(caf::timespan within) {
    std::optional<job_spec> out;
    self->receive([&](continue_atom, job_spec& spec) { out = std::move(spec); },
                  caf::after(within) >> [] {});
    return out;
  }
  void sync(const stream_writer_actor& w) {
    self->request(w, 10s, sync_atom::value)
      .receive([](std::int64_t, std::int64_t) {}, [](caf::error& err) { CAF_FAIL(caf::to_string(err)); });
  }
  std::string column(const std::string& name) {
    return conn.exec("SELECT " + name + "::text FROM messages WHERE id = $1",
                     {persistence::param(ex.answer.id)}).text(0, 0);
  }
  std::string stored_content() {
    return conn.exec("SELECT content FROM messages WHERE id = $1", {persistence::param(ex.answer.id)})
      .text(0, 0);
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(stream_writer_tests, fixture)

CAF_TEST(appends land in order and the final write is exact) {
  std::string text;
  for (int i = 0; i < 50; ++i) {
    auto delta = "part" + std::to_string(i) + " \"quoted\" \\ ";
    self->send(writer, append_atom::value,
               stream_delta{ex.answer.id, delta, static_cast<std::int64_t>(text.size())});
    text += delta;
  }
  auto [statements, rows] = writer_stats();  // flushes what is pending before it answers
  CAF_CHECK_EQUAL(stored_content(), text);
  CAF_CHECK_EQUAL(rows, statements);  // one row per statement: this one message
  CAF_CHECK_LESS(statements, 50);
  CAF_CHECK(finish(stream_close{ex.answer.id, text + "end", "", "[]", model::stream_status::complete, "", {"m", 3, 4}}));
  auto row = persistence::find_message(conn, ex.answer.id);
  CAF_REQUIRE(row.has_value());
  CAF_CHECK_EQUAL(row->content, text + "end");
  CAF_CHECK(!row->streaming);
  CAF_CHECK_EQUAL(row->stream_status, "complete");
  CAF_CHECK_EQUAL(row->model_id, "m");
  CAF_CHECK_EQUAL(row->output_tokens.value_or(0), 4);
}

CAF_TEST(text reasoning and tool state of several flushes share one statement) {
  std::string text, thinking;
  for (int i = 0; i < 20; ++i) {
    stream_delta d{ex.answer.id, "t" + std::to_string(i), static_cast<std::int64_t>(text.size()),
                   "r" + std::to_string(i) + " 'x'; --", static_cast<std::int64_t>(thinking.size())};
    if (i == 5) {
      d.tools_changed = true;
      d.tool_status = "searching";
      d.tool_calls = R"([{"call_id":"c1","name":"search","status":"running","summary":"searching"}])";
    }
    text += d.text;
    thinking += d.thinking;
    self->send(writer, append_atom::value, std::move(d));
  }
  auto [statements, rows] = writer_stats();
  CAF_CHECK_LESS(statements, 20);
  CAF_CHECK_EQUAL(rows, statements);
  auto stored = conn.exec("SELECT content, thinking_text, tool_status, tool_calls->0->>'name' "
                          "FROM messages WHERE id = $1", {persistence::param(ex.answer.id)});
  CAF_CHECK_EQUAL(stored.text(0, 0), text);
  CAF_CHECK_EQUAL(stored.text(0, 1), thinking);
  CAF_CHECK_EQUAL(stored.text(0, 2), "searching");
  CAF_CHECK_EQUAL(stored.text(0, 3), "search");
  // A later delta whose reasoning base does not match what is stored is not applied.
  self->send(writer, append_atom::value,
             stream_delta{ex.answer.id, "x", static_cast<std::int64_t>(text.size()), "y", 0});
  writer_stats();
  CAF_CHECK_EQUAL(stored_content(), text);
  auto calls = R"([{"call_id":"c1","name":"search","status":"done","summary":"found 3"}])";
  CAF_CHECK(finish(stream_close{ex.answer.id, text, thinking + "!", calls,
                                model::stream_status::complete, "", {}}));
  auto row = persistence::find_message(conn, ex.answer.id);
  CAF_REQUIRE(row.has_value());
  CAF_CHECK_EQUAL(row->thinking_text, thinking + "!");
  CAF_CHECK_EQUAL(row->tool_status, "");
  CAF_CHECK(row->tool_calls.find("found 3") != std::string::npos);
}

CAF_TEST(a row owned by another node is never written) {
  conn.exec("UPDATE messages SET owner_node = 'node-b' WHERE id = $1",
            {persistence::param(ex.answer.id)});
  CAF_CHECK(!finish(stream_close{ex.answer.id, "intruder", "", "[]", model::stream_status::complete, "", {}}));
  auto row = persistence::find_message(conn, ex.answer.id);
  CAF_CHECK(row->streaming);
  CAF_CHECK_EQUAL(row->content, "");
}

// Another node closed the row (this node's lease had run out): the writer tells the row's
// message actor to stop, whether it learns it from an append or from a lease renewal. With
// streams.continue (the default) that is (moved_atom): its subscribers look for the answer again
// and find the row's end (SPEC §12).
CAF_TEST(a row closed by another node stops its stream on the next append or renewal) {
  auto answer2 = persistence::create_exchange(conn, ex.answer.chat_id, *ex.question.user_id, "q2",
                                              "node-a", 10).answer;
  for (auto id : {ex.answer.id, answer2.id}) {
    bool claimed = false;
    self->request(writer, 5s, claim_atom::value, id)
      .receive([&](bool ok) { claimed = ok; }, [&](caf::error& err) { CAF_FAIL(caf::to_string(err)); });
    CAF_REQUIRE(claimed);
  }
  conn.exec("UPDATE messages SET streaming = false, stream_status = 'interrupted', "
            "owner_node = 'node-b' WHERE id IN ($1, $2)",
            {persistence::param(ex.answer.id), persistence::param(answer2.id)});
  auto expect_stop = [&] {
    bool told = false;
    self->receive([&](moved_atom) { told = true; },
                  caf::after(10s) >> [] { CAF_FAIL("the writer did not stop the stream"); });
    CAF_CHECK(told);
  };
  self->send(writer, append_atom::value, stream_delta{ex.answer.id, "late text", 0});
  writer_stats();
  expect_stop();
  self->send(writer, sweep_atom::value, false);  // renews this node's leases
  expect_stop();
  CAF_CHECK_EQUAL(stored_content(), "");
}

CAF_TEST(with streams.continue off a row closed by another node ends its stream interrupted) {
  writer_config off{conninfo, "node-a"};
  off.continue_streams = false;
  auto w = sys.spawn<caf::detached>(stream_writer, off);
  others.push_back(w);
  bool claimed = false;
  self->request(w, 5s, claim_atom::value, ex.answer.id)
    .receive([&](bool ok) { claimed = ok; }, [&](caf::error& err) { CAF_FAIL(caf::to_string(err)); });
  CAF_REQUIRE(claimed);
  conn.exec("UPDATE messages SET streaming = false, stream_status = 'interrupted', "
            "owner_node = 'node-b' WHERE id = $1", {persistence::param(ex.answer.id)});
  self->send(w, append_atom::value, stream_delta{ex.answer.id, "late text", 0});
  bool told = false;
  self->receive(
    [&](end_atom, model::stream_status status, const std::string& reason, bool wait_for_write) {
      told = status == model::stream_status::interrupted && !wait_for_write && reason.find("lease lost") == 0;
    },
    caf::after(10s) >> [] { CAF_FAIL("the writer did not stop the stream"); });
  CAF_CHECK(told);
}

CAF_TEST(claiming a missing row says so) {
  bool claimed = true;
  self->request(writer, 5s, claim_atom::value, std::int64_t{987654})
    .receive([&](bool ok) { claimed = ok; },
             [&](caf::error& err) { CAF_FAIL(caf::to_string(err)); });
  CAF_CHECK(!claimed);
}

CAF_TEST(an expired answer is taken over by exactly one of two nodes a lease after they reach the database and continued from the stored text) {
  conn.exec("UPDATE messages SET content = 'stored ', thinking_text = 'thought', "
            "lease_expires_at = now() - interval '1 second' WHERE id = $1",
            {persistence::param(ex.answer.id)});
  auto chat = ex.answer.chat_id;
  auto ingest = persistence::create_ingest_answer(conn, chat, "");
  conn.exec("UPDATE messages SET owner_node = 'node-a', lease_expires_at = now() - interval '1 second' "
            "WHERE id = $1", {persistence::param(ingest->id)});
  auto b = node("node-b");
  auto c = node("node-c");
  self->send(b, sweep_atom::value, false);
  self->send(c, sweep_atom::value, false);
  sync(b);
  sync(c);
  // SPEC §17: a node that has just reached the database judges nobody's lease yet (the owner
  // may have been cut off as well); it does once it has had the database for a full lease.
  CAF_CHECK_EQUAL(column("owner_node"), "node-a");
  CAF_CHECK_EQUAL(column("continuations"), "0");
  auto spec = continuation(10s);
  CAF_REQUIRE(spec.has_value());
  CAF_CHECK_EQUAL(spec->message_id, ex.answer.id);
  CAF_CHECK_EQUAL(spec->chat_id, chat);
  CAF_CHECK_EQUAL(spec->question, "q");
  CAF_REQUIRE(spec->resumed.has_value());
  CAF_CHECK_EQUAL(spec->resumed->text, "stored ");
  CAF_CHECK_EQUAL(spec->resumed->thinking, "thought");
  CAF_CHECK_EQUAL(spec->resumed->continuations, 1);
  CAF_CHECK(!continuation(std::chrono::milliseconds(300)).has_value());  // one node only
  CAF_CHECK_EQUAL(column("continuations"), "1");
  CAF_CHECK_EQUAL(column("streaming"), "true");
  auto owner = column("owner_node");
  CAF_CHECK(owner == "node-b" || owner == "node-c");
  // An outside producer's answer is not continued: its producer is gone (SPEC §11).
  auto row = persistence::find_message(conn, ingest->id);
  CAF_CHECK(!row->streaming);
  CAF_CHECK_EQUAL(row->stream_status, "error");
}

CAF_TEST(a released row is taken at once by the peer it was handed to) {
  bool claimed = false;
  self->request(writer, 5s, claim_atom::value, ex.answer.id)
    .receive([&](bool ok) { claimed = ok; }, [&](caf::error& err) { CAF_FAIL(caf::to_string(err)); });
  CAF_REQUIRE(claimed);
  bool released = false;
  self->request(writer, 5s, release_atom::value,
                stream_close{ex.answer.id, "all of it", "", "[]", model::stream_status::complete, "", {}})
    .receive([&](bool ok) { released = ok; }, [&](caf::error& err) { CAF_FAIL(caf::to_string(err)); });
  CAF_REQUIRE(released);
  CAF_CHECK_EQUAL(stored_content(), "all of it");
  auto b = node("node-b");
  self->send(b, take_atom::value, std::vector<std::int64_t>{ex.answer.id});
  auto spec = continuation(10s);
  CAF_REQUIRE(spec.has_value());
  CAF_CHECK_EQUAL(spec->resumed->text, "all of it");
  CAF_CHECK_EQUAL(column("owner_node"), "node-b");
  // node-a's late write is refused: the row is node-b's now (fencing).
  CAF_CHECK(!finish(stream_close{ex.answer.id, "late", "", "[]", model::stream_status::complete, "", {}}));
}

CAF_TEST(a restarted node continues its own answers from its previous life) {
  auto again = node("node-a");  // the same name: its previous life owned the row
  std::int64_t taken = -1;
  self->request(again, 10s, adopt_atom::value)
    .receive([&](std::int64_t n) { taken = n; }, [&](caf::error& err) { CAF_FAIL(caf::to_string(err)); });
  CAF_CHECK_EQUAL(taken, 1);
  auto spec = continuation(10s);
  CAF_REQUIRE(spec.has_value());
  CAF_CHECK_EQUAL(spec->message_id, ex.answer.id);
  CAF_CHECK_EQUAL(column("continuations"), "1");
}

CAF_TEST_FIXTURE_SCOPE_END()

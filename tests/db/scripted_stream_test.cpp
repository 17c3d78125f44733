// A whole scripted stream through the real actors into real PostgreSQL.
#define CAF_SUITE scripted_stream
#include "test_dsl.hpp"

#include "actors/provider/launcher.hpp"
#include "actors/stream/directory.hpp"
#include "actors/store/stream_writer.hpp"
#include "persistence/chats_repository.hpp"
#include "persistence/messages_repository.hpp"
#include "persistence/users_repository.hpp"
#include "fake_actors.hpp"
#include "writer_fixture.hpp"

#include <boost/json.hpp>

using namespace actorcable;
using namespace actorcable::actors;
using namespace std::chrono_literals;

namespace {

struct fixture : testing::writer_fixture {
  directory_actor dir;
  std::int64_t chat_id = 0, user_id = 0;

  fixture() {
    message_actor_config mcfg;
    mcfg.idle_timeout = 500ms;
    provider_config pcfg;
    pcfg.scripted.default_rate = 200;
    dir = sys.spawn(directory, mcfg, writer, make_job_launcher(pcfg, nullptr));
    auto user = persistence::ensure_user_with_account(conn, "s@example.com");
    user_id = user.id;
    chat_id = persistence::create_chat(conn, *persistence::default_account_id(conn, user.id), "t").id;
  }
  ~fixture() {
    self->send_exit(dir, caf::exit_reason::user_shutdown);
  }

  struct outcome {
    std::string delivered;
    std::string status;
    model::message row;
  };

  // Posts `question`, subscribes, collects frames until streaming_end, then reads the row.
  outcome stream(const std::string& question) {
    auto ex = persistence::create_exchange(conn, chat_id, user_id, question, "node-a", 10);
    self->request(dir, 5s, start_atom::value, job_spec{ex.answer.id, chat_id, question, {}})
      .receive([](bool) {}, [](caf::error& err) { CAF_FAIL(caf::to_string(err)); });
    caf::actor probe = caf::actor_cast<caf::actor>(self);
    self->request(dir, 5s, caf::subscribe_atom::value, ex.answer.id, probe, true)
      .receive([](caf::actor&) {}, [](caf::error& err) { CAF_FAIL(caf::to_string(err)); });
    outcome out;
    bool done = false;
    self->receive_while([&] { return !done; })(
      [&](frame_atom, const stream_event_ptr& ev) {
        auto json = boost::json::parse(ev->message_json).as_object();
        if (ev->type == stream_event::kind::state) {
          out.delivered = json.at("content").as_string().c_str();
        } else if (ev->type == stream_event::kind::update) {
          out.delivered += json.at("chunk").as_string().c_str();
        } else {
          out.status = actorcable::testing::end_status(*ev);
          done = true;
        }
      },
      caf::after(10s) >> [&] { CAF_FAIL("no streaming_end within 10 s"); });
    out.row = *persistence::find_message(conn, ex.answer.id);
    return out;
  }
};

std::string scripted_text(int chunks) {
  std::string text;
  for (int i = 0; i < chunks; ++i)
    text += scripted_chunk(i);
  return text;
}

}  // namespace

CAF_TEST_FIXTURE_SCOPE(scripted_stream_tests, fixture)

CAF_TEST(a complete answer ends in a closed row with the exact text) {
  auto out = stream("tell me [[chunks:60]]");
  CAF_CHECK_EQUAL(out.status, "complete");
  CAF_CHECK_EQUAL(out.delivered, scripted_text(60));
  CAF_CHECK_EQUAL(out.row.content, scripted_text(60));
  CAF_CHECK(!out.row.streaming);
  CAF_CHECK_EQUAL(out.row.stream_status, "complete");
  CAF_CHECK_EQUAL(out.row.model_id, "scripted");
}

CAF_TEST(a failing provider ends in error with the text delivered before) {
  auto out = stream("[[chunks:20]] [[fail-after:5]]");
  CAF_CHECK_EQUAL(out.status, "error");
  CAF_CHECK_EQUAL(out.row.content, scripted_text(5));
  CAF_CHECK_EQUAL(out.delivered, scripted_text(5));
  CAF_CHECK(!out.row.streaming);
  CAF_CHECK_EQUAL(out.row.stream_status, "error");
  CAF_CHECK(out.row.stream_error.find("failed after 5 chunks") != std::string::npos);
}

CAF_TEST(a stalled provider is ended by the idle timeout) {
  auto out = stream("[[stall]]");
  CAF_CHECK_EQUAL(out.status, "error");
  CAF_CHECK(!out.row.streaming);
  CAF_CHECK(out.row.stream_error.find("idle") != std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()

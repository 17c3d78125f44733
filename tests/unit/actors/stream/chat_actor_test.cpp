// The chat actor (one per chat with subscribers) under the deterministic scheduler: a subscriber
// hears of every live stream of the chat, present and future, each once, with a refresh for a
// new one; an ended stream is forgotten; with no subscriber left the actor quits after a while.
#define CAF_SUITE chat_actor
#include "test_dsl.hpp"

#include "actors/stream/chat_actor.hpp"
#include "model/obfuscated_id.hpp"

#include <boost/json.hpp>

using namespace actorcable;
using namespace actorcable::actors;

namespace {

struct heard_state {
  std::vector<std::int64_t> streams;  // message ids told by chat_stream, in order
  std::vector<std::string> frames;    // message JSON of the frames
};

caf::behavior listener(caf::stateful_actor<heard_state>* self) {
  return {
    [=](chat_stream_atom, std::int64_t, std::int64_t mid, const caf::actor&) {
      self->state.streams.push_back(mid);
    },
    [=](frame_atom, const stream_event_ptr& ev) { self->state.frames.push_back(ev->message_json); },
  };
}

// A message actor as the chat actor sees it: something to monitor; "end" ends it normally.
caf::behavior idle_stream(caf::event_based_actor* self) {
  return {[=](const std::string& cmd) {
    if (cmd == "end")
      self->quit();
  }};
}

using ids = std::vector<std::int64_t>;

struct fixture : test_coordinator_fixture<> {
  caf::actor s1 = sys.spawn(idle_stream);
  caf::actor s2 = sys.spawn(idle_stream);
  chat_actor_actor chat = sys.spawn(chat_actor, std::int64_t{7},
                              std::map<std::int64_t, caf::actor>{{1, s1}});

  auto& heard(const caf::actor& x) { return deref<caf::stateful_actor<heard_state>>(x).state; }
  caf::actor subscriber() {
    auto sub = sys.spawn(listener);
    self->send(chat, caf::subscribe_atom::value, sub);
    consume_messages();
    return sub;
  }
  void started(std::int64_t mid, const caf::actor& stream) {
    self->send(chat, stream_started_atom::value, mid, stream);
    consume_messages();
  }
  bool chat_alive() {
    return !deref<chat_actor_actor::stateful_base<chat_state>>(chat).getf(caf::abstract_actor::is_terminated_flag);
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(chat_actor_tests, fixture)

CAF_TEST(a subscriber hears of the live streams and of each new one once with a refresh) {
  auto a = subscriber();
  CAF_CHECK(heard(a).streams == ids{1});
  CAF_CHECK(heard(a).frames.empty());
  started(2, s2);
  started(2, s2);  // told twice (directory and cluster): once
  CAF_CHECK(heard(a).streams == (ids{1, 2}));
  CAF_REQUIRE_EQUAL(heard(a).frames.size(), 1u);
  auto refresh = boost::json::parse(heard(a).frames[0]);
  CAF_CHECK_EQUAL(refresh.at("action").as_string(), "refresh");
  CAF_CHECK_EQUAL(refresh.at("prop").as_string(), "messages");
  CAF_CHECK_EQUAL(refresh.at("id").as_string(), model::encode_id(model::model_kind::chat, 7));
  auto b = subscriber();
  CAF_CHECK(heard(b).streams == (ids{1, 2}));
}

CAF_TEST(an ended stream is forgotten) {
  self->send(s1, std::string("end"));
  consume_messages();
  auto a = subscriber();
  CAF_CHECK(heard(a).streams.empty());
}

CAF_TEST(with no subscriber left the chat actor quits after lingering and not before) {
  auto a = subscriber();
  self->send(chat, caf::unsubscribe_atom::value, a);
  consume_messages();
  CAF_CHECK(chat_alive());
  auto b = subscriber();  // came back while it lingered: it stays
  sched.trigger_timeouts();
  consume_messages();
  CAF_CHECK(chat_alive());
  caf::anon_send_exit(b, caf::exit_reason::kill);  // a subscriber that terminates counts as gone
  consume_messages();
  sched.trigger_timeouts();
  consume_messages();
  CAF_CHECK(!chat_alive());
}

CAF_TEST_FIXTURE_SCOPE_END()

// The bridge between one client and the stream actors, under the deterministic scheduler, with
// its database lookups (bridge_store) and its connection (cable_socket) replaced by fakes: what
// the client is sent for what it asks, and what the bridge asks of the directory.
#define CAF_SUITE cable_bridge
#include "test_dsl.hpp"

#include "actors/provider/launcher.hpp"
#include "actors/provider/scripted_provider.hpp"
#include "actors/stream/directory.hpp"
#include "fake_actors.hpp"
#include "model/obfuscated_id.hpp"
#include "net/cable/cable_bridge.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <stdexcept>

using namespace actorcable;
using namespace actorcable::actors;
using namespace actorcable::net;
using namespace actorcable::testing;

namespace {

// The client's side of the connection: every frame the bridge sent, and how it closed.
struct fake_socket final : cable_socket {
  std::vector<std::string> sent;
  std::optional<std::string> closed_with;
  void send(frame_ptr frame) override { sent.push_back(*frame); }
  void close_with(frame_ptr last) override { closed_with = *last; }
};

constexpr std::int64_t user = 1;

std::string message_identifier(std::int64_t id) {
  return R"({"channel":"SyncChannel","model":"Message","id":")"
         + model::encode_id(model::model_kind::message, id) + "\"}";
}

std::string command(std::string_view name, const std::string& identifier, std::string data = {}) {
  boost::json::object o{{"command", name}, {"identifier", identifier}};
  if (!data.empty())
    o["data"] = data;
  return boost::json::serialize(o);
}

struct fixture : test_coordinator_fixture<> {
  stream_writer_actor writer = sys.spawn(fake_writer);
  directory_actor dir = sys.spawn(directory, message_actor_config{}, writer,
                                  make_job_launcher(provider_config{}, nullptr));
  std::shared_ptr<fake_socket> socket = std::make_shared<fake_socket>();
  // What the fake database holds: who may read which message, and the rows.
  std::map<std::int64_t, persistence::access_scope> readable;  // by message id, for `user`
  std::map<std::int64_t, model::message> rows;
  bool database_down = false;
  caf::actor bridge;

  fixture() { spawn_bridge(false); }

  // A bridge for `extended` (actioncable-v1-ext-json) clients, in place of the last one.
  void spawn_bridge(bool extended) {
    if (bridge)
      self->send_exit(bridge, caf::exit_reason::user_shutdown);
    socket = std::make_shared<fake_socket>();
    auto store = std::make_shared<bridge_store>();
    store->access = [this](std::int64_t uid, const channel_target& t)
      -> std::optional<persistence::access_scope> {
      if (database_down)
        throw std::runtime_error("connection refused");
      auto i = readable.find(t.id);
      if (uid != user || t.kind != model::model_kind::message || i == readable.end())
        return std::nullopt;
      return i->second;
    };
    store->message = [this](std::int64_t id) -> std::optional<model::message> {
      auto i = rows.find(id);
      return i == rows.end() ? std::nullopt : std::optional<model::message>{i->second};
    };
    bridge_config cfg;
    cfg.directory = dir;
    cfg.store = store;
    cfg.run_blocking = [](std::function<void()> fn) { fn(); };  // its reply is a message anyway
    cfg.user_id = user;
    cfg.extended = extended;
    bridge = sys.spawn(cable_bridge, socket, cfg);
    consume_messages();
  }

  // The bridge and the directory hold each other (through a chat's subscribers): both go.
  ~fixture() override {
    self->send_exit(bridge, caf::exit_reason::user_shutdown);
    self->send_exit(dir, caf::exit_reason::user_shutdown);
    run();
  }

  void client_sends(const std::string& frame) {
    self->send(bridge, text_atom::value, frame);
    consume_messages();
  }

  // The frames sent for `identifier`, as JSON objects.
  std::vector<boost::json::object> frames_for(const std::string& identifier) {
    std::vector<boost::json::object> out;
    for (auto& f : socket->sent) {
      auto v = boost::json::parse(f).as_object();
      if (auto* id = v.if_contains("identifier"); id && id->as_string() == identifier)
        out.push_back(std::move(v));
    }
    return out;
  }
  std::vector<std::string> types_for(const std::string& identifier) {
    std::vector<std::string> out;
    for (auto& f : frames_for(identifier))
      out.push_back(f.contains("type") ? std::string(f.at("type").as_string()) : "message");
    return out;
  }
  // The answer as the client assembles it, and how it ended ("" while it streams).
  std::pair<std::string, std::string> answer(const std::string& identifier) {
    std::string text, status;
    for (auto& f : frames_for(identifier)) {
      if (!f.contains("message"))
        continue;
      auto& m = f.at("message").as_object();
      std::string_view action = m.at("action").as_string();
      if (action == "streaming_update")
        text += m.at("chunk").as_string();
      else if (action == "current_state")
        text = m.at("content").as_string();
      else if (action == "streaming_end")
        status = m.at("status").as_string();
    }
    return {text, status};
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(cable_bridge_tests, fixture)

CAF_TEST(the client is welcomed and a message it may read streams to it to the end) {
  CAF_REQUIRE_EQUAL(socket->sent.size(), 1u);
  auto first = boost::json::parse(socket->sent[0]);
  CAF_CHECK_EQUAL(std::string(first.at("type").as_string()), "welcome");
  readable[5] = {1, 1};
  self->send(dir, start_atom::value, job_spec{5, 1, "[[chunks:3]]", {}});
  consume_messages();
  auto ident = message_identifier(5);
  client_sends(command("subscribe", ident));
  auto types = types_for(ident);
  CAF_REQUIRE(!types.empty());
  CAF_CHECK_EQUAL(types[0], "confirm_subscription");
  run();  // the job's chunks, its end, and every timer after it
  auto [text, status] = answer(ident);
  CAF_CHECK_EQUAL(text, scripted_chunk(0) + scripted_chunk(1) + scripted_chunk(2));
  CAF_CHECK_EQUAL(status, "complete");
  CAF_CHECK(!socket->closed_with);
}

CAF_TEST(a foreign message and a missing one are refused alike and nothing of them is sent) {
  readable[5] = {1, 1};
  self->send(dir, start_atom::value, job_spec{6, 2, "[[chunks:3]]", {}});  // another user's
  consume_messages();
  for (std::int64_t id : {6, 7}) {
    auto ident = message_identifier(id);
    client_sends(command("subscribe", ident));
    CAF_CHECK_EQUAL(types_for(ident), std::vector<std::string>{"reject_subscription"});
  }
  run();
  CAF_CHECK_EQUAL(frames_for(message_identifier(6)).size(), 1u);  // the reject only
  auto bad = R"({"channel":"SyncChannel","model":"Message","id":"1; DROP TABLE messages"})";
  client_sends(command("subscribe", bad));
  CAF_CHECK_EQUAL(types_for(bad), std::vector<std::string>{"reject_subscription"});
}

CAF_TEST(a lookup that fails refuses the subscription and the connection goes on) {
  database_down = true;
  readable[5] = {1, 1};
  auto ident = message_identifier(5);
  client_sends(command("subscribe", ident));
  CAF_CHECK_EQUAL(types_for(ident), std::vector<std::string>{"reject_subscription"});
  database_down = false;
  client_sends(command("subscribe", ident));
  auto types = types_for(ident);
  CAF_CHECK_EQUAL(types.back(), "confirm_subscription");
}

CAF_TEST(an answer no actor streams is told from its row) {
  readable[9] = readable[10] = {1, 1};
  model::message ended;
  ended.id = 9;
  ended.content = "stored text";
  ended.stream_status = "complete";
  rows[9] = ended;
  model::message orphan;  // streaming, its node gone: no end is made up (a node takes it over)
  orphan.id = 10;
  orphan.content = "so far";
  orphan.streaming = true;
  rows[10] = orphan;
  client_sends(command("subscribe", message_identifier(9)));
  client_sends(command("subscribe", message_identifier(10)));
  auto [text9, status9] = answer(message_identifier(9));
  CAF_CHECK_EQUAL(text9, "");  // no current_state once it ended (SPEC §5)
  CAF_CHECK_EQUAL(status9, "complete");
  auto types10 = types_for(message_identifier(10));
  CAF_CHECK_EQUAL(types10, std::vector<std::string>{"confirm_subscription"});
}

CAF_TEST(an actor gone while the directory still lists it is answered from the row) {
  spawn_bridge(true);
  readable[11] = {1, 1};
  model::message row;
  row.id = 11;
  row.content = "all of it";
  row.stream_status = "complete";
  rows[11] = row;
  // The message actor retired, and the directory has not handled its down message yet.
  auto retired = sys.spawn([]() -> caf::behavior { return {[](int) {}}; });
  self->send_exit(retired, caf::exit_reason::normal);
  consume_messages();
  deref<directory_actor::stateful_base<directory_state>>(dir).state.streams.emplace(
    11, directory_state::stream{retired, 1});
  auto ident = message_identifier(11);
  auto oid = model::encode_id(model::model_kind::message, 11);
  boost::json::object history{{"streams", boost::json::object{{"Message:" + oid,
                                                               boost::json::object{{"offset", 3}, {"epoch", "e1"}}}}}};
  client_sends(boost::json::serialize(
    boost::json::object{{"command", "subscribe"}, {"identifier", ident}, {"history", history}}));
  auto types = types_for(ident);
  CAF_REQUIRE_GREATER_OR_EQUAL(types.size(), 2u);
  CAF_CHECK_EQUAL(types[0], "confirm_subscription");
  CAF_CHECK_EQUAL(types[1], "reject_history");
  auto [text, status] = answer(ident);
  CAF_CHECK_EQUAL(text, "all of it");
  CAF_CHECK_EQUAL(status, "complete");
}

CAF_TEST(stop over the socket cancels the answer it names) {
  readable[5] = {1, 1};
  self->send(dir, start_atom::value, job_spec{5, 1, "[[chunks:300]]", {}});
  consume_messages();
  auto ident = message_identifier(5);
  client_sends(command("subscribe", ident));
  self->send(bridge, text_atom::value, command("message", ident, R"({"action":"stop"})"));
  expect((text_atom, std::string), from(self).to(bridge));
  expect((cancel_atom, std::int64_t), from(_).to(dir).with(_, 5));
  run();
  auto [text, status] = answer(ident);
  CAF_CHECK(!text.empty());
  CAF_CHECK_EQUAL(status, "cancelled");
  auto& fw = deref<fake_writer_actor>(writer).state;
  CAF_REQUIRE_EQUAL(fw.finishes.size(), 1u);
  CAF_CHECK_EQUAL(model::to_string(fw.finishes[0].status), "cancelled");
}

CAF_TEST(stop on a subscription the client does not have stops nothing) {
  self->send(dir, start_atom::value, job_spec{5, 1, "[[chunks:3]]", {}});
  consume_messages();
  self->send(bridge, text_atom::value, command("message", message_identifier(5), R"({"action":"stop"})"));
  expect((text_atom, std::string), from(self).to(bridge));
  disallow((cancel_atom, std::int64_t), from(_).to(dir));
  run();
  auto& fw = deref<fake_writer_actor>(writer).state;
  CAF_REQUIRE_EQUAL(fw.finishes.size(), 1u);
  CAF_CHECK_EQUAL(model::to_string(fw.finishes[0].status), "complete");
}

CAF_TEST(a frame that is not a command closes the connection with invalid_request) {
  client_sends("{not json");
  CAF_REQUIRE(socket->closed_with);
  auto last = boost::json::parse(*socket->closed_with).as_object();
  CAF_CHECK_EQUAL(std::string(last.at("type").as_string()), "disconnect");
  CAF_CHECK_EQUAL(std::string(last.at("reason").as_string()), "invalid_request");
}

CAF_TEST(a revoked membership rejects the subscriptions that came through it) {
  readable[5] = {3, 1};
  self->send(dir, start_atom::value, job_spec{5, 1, "[[chunks:300]]", {}});
  consume_messages();
  auto ident = message_identifier(5);
  client_sends(command("subscribe", ident));
  access_change other{access_change::kind::membership, 4, user, 0, 0};
  self->send(bridge, access_atom::value, other);
  consume_messages();
  auto before = types_for(ident);  // confirmed, then its current_state; not rejected
  CAF_CHECK_EQUAL(before.front(), "confirm_subscription");
  CAF_CHECK_EQUAL(std::count(before.begin(), before.end(), "reject_subscription"), 0);
  access_change mine{access_change::kind::membership, 3, user, 0, 0};
  self->send(bridge, access_atom::value, mine);
  consume_messages();
  auto after = types_for(ident);
  CAF_CHECK_EQUAL(after.back(), "reject_subscription");
}

CAF_TEST(a closed connection unsubscribes from its streams and the bridge quits) {
  readable[5] = {1, 1};
  self->send(dir, start_atom::value, job_spec{5, 1, "[[chunks:300]]", {}});
  consume_messages();
  client_sends(command("subscribe", message_identifier(5)));
  auto gone = std::make_shared<bool>(false);
  bridge->attach_functor([gone](const caf::error&) { *gone = true; });
  self->send(bridge, closed_atom::value);
  expect((closed_atom), from(self).to(bridge));
  auto stream = deref<directory_actor::stateful_base<directory_state>>(dir).state.streams.at(5).actor;
  expect((caf::unsubscribe_atom, caf::actor), from(bridge).to(stream).with(_, bridge));
  CAF_CHECK(*gone);
}

CAF_TEST_FIXTURE_SCOPE_END()

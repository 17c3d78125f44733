// An I/O thread's tap with stand-in connections: events written in order, one frame per
// identifier shared by its connections, updates that piled up merged for plain clients only,
// a bounded turn, catch-ups in order with the events, and nothing after shut().
#define CAF_SUITE io_tap
#include "test_dsl.hpp"

#include "actors/delivery/stream_frames.hpp"
#include "common/metrics.hpp"
#include "model/obfuscated_id.hpp"
#include "net/ws/io_tap.hpp"

#include "sockets.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <cerrno>

using namespace actorcable;
using namespace actorcable::net;

namespace {

struct fake_connection final : tap_connection {
  std::vector<frame_ptr> frames;
  int corked = 0;  // cork() calls
  bool in_cork = false;
  std::function<void()> on_enqueue;
  void enqueue(const frame_ptr& frame, const actors::stream_event_ptr&) override {
    frames.push_back(frame);
    if (on_enqueue)
      on_enqueue();
  }
  void cork() override {
    ++corked;
    in_cork = true;
  }
  void uncork() override { in_cork = false; }

  // The text the client assembles from its streaming_update frames.
  std::string text() const {
    std::string out;
    for (auto& f : frames) {
      auto v = boost::json::parse(*f);
      auto& m = v.at("message").as_object();
      if (m.at("action").as_string() == "streaming_update")
        out += m.at("chunk").as_string();
    }
    return out;
  }
  std::vector<std::int64_t> offsets() const {
    std::vector<std::int64_t> out;
    for (auto& f : frames)
      out.push_back(boost::json::parse(*f).at("offset").as_int64());
    return out;
  }
};

// A connection with a real socket (one end of a socket pair) that takes batched sends while
// `idle`; the frames it is handed otherwise are enqueued.
struct socket_connection final : tap_connection {
  testing::socket_pair pair;
  bool idle = true;
  std::vector<frame_ptr> enqueued;
  std::vector<long> results;  // of its batched sends
  void enqueue(const frame_ptr& frame, const actors::stream_event_ptr&) override {
    enqueued.push_back(frame);
  }
  void cork() override {}
  void uncork() override {}
  int claim_socket() override {
    if (!idle)
      return -1;
    idle = false;  // until sent()
    return pair.fd[0];
  }
  void sent(const frame_ptr&, long result) override {
    results.push_back(result);
    idle = true;
  }
  std::string received() { return pair.read_all(); }
};

std::string wire(const std::string& text) {
  return testing::text_frame_wire(text);
}

constexpr std::int64_t mid = 42;
const std::string plain_id = R"({"channel":"SyncChannel","model":"Message","id":"a"})";
const std::string other_id = R"({"channel":"SyncChannel","model":"Message","id":"b"})";

struct fixture {
  boost::asio::io_context ioc;
  actorcable::metrics stats;
  std::shared_ptr<io_tap> tap = std::make_shared<io_tap>(ioc, stats);
  actors::stream_identity who{mid, model::encode_id(model::model_kind::message, mid), "e1"};

  actors::stream_event_ptr update(std::int64_t offset) {
    return actors::make_update_event(who, offset, "w" + std::to_string(offset) + " ");
  }
  void run() {
    ioc.restart();
    ioc.run();
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(io_tap_tests, fixture)

CAF_TEST(each event reaches every connection of the message once and in order) {
  fake_connection a, b, c;
  tap->add(mid, &a, plain_id, false);
  tap->add(mid, &b, plain_id, false);
  tap->add(mid, &c, other_id, false);
  tap->add(mid + 1, &c, other_id, false);  // another message's route: not this one's events
  for (std::int64_t i = 1; i <= 3; ++i) {
    tap->deliver(mid, update(i));
    run();  // the thread keeps up: nothing to merge
  }
  CAF_CHECK_EQUAL(a.frames.size(), 3u);
  CAF_CHECK_EQUAL(a.text(), "w1 w2 w3 ");
  CAF_CHECK_EQUAL(c.text(), "w1 w2 w3 ");
  CAF_CHECK_EQUAL(a.corked, 0);
  for (std::size_t i = 0; i < 3; ++i) {
    CAF_CHECK(a.frames[i] == b.frames[i]);  // one frame per identifier, shared
    CAF_CHECK(a.frames[i] != c.frames[i]);  // its own identifier
  }
  CAF_CHECK_EQUAL(stats.broadcasts_total.load(), 9);
}

CAF_TEST(a thread that fell behind merges plain updates and writes every extended offset) {
  fake_connection plain, extended;
  tap->add(mid, &plain, plain_id, false);
  tap->add(mid, &extended, plain_id, true);
  for (std::int64_t i = 1; i <= 5; ++i)
    tap->deliver(mid, update(i));
  tap->deliver(mid, actors::make_end_event(who, 6, model::stream_status::complete));
  run();
  CAF_CHECK_EQUAL(plain.frames.size(), 2u);  // the five updates as one, then the end
  CAF_CHECK_EQUAL(plain.text(), "w1 w2 w3 w4 w5 ");
  CAF_CHECK_EQUAL(extended.offsets(), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
  CAF_CHECK_EQUAL(extended.text(), plain.text());
  CAF_CHECK_EQUAL(plain.corked, 1);  // written together
  CAF_CHECK(!plain.in_cork);
}

CAF_TEST(a turn writes a bounded share of a message and other work of the thread goes between) {
  fake_connection extended;
  tap->add(mid, &extended, plain_id, true);
  constexpr std::int64_t n = 300;
  for (std::int64_t i = 1; i <= n; ++i)
    tap->deliver(mid, update(i));
  std::size_t written_before_other_work = 0;
  boost::asio::post(ioc, [&] { written_before_other_work = extended.frames.size(); });
  run();
  CAF_CHECK_EQUAL(extended.frames.size(), static_cast<std::size_t>(n));
  CAF_CHECK_GREATER(written_before_other_work, 0u);
  CAF_CHECK_LESS(written_before_other_work, static_cast<std::size_t>(n));
  auto offsets = extended.offsets();
  for (std::int64_t i = 0; i < n; ++i)
    CAF_REQUIRE_EQUAL(offsets[i], i + 1);
}

CAF_TEST(work run in order comes after the events delivered before it and before later ones) {
  fake_connection a;
  tap->add(mid, &a, plain_id, true);
  std::size_t seen = 0;
  tap->deliver(mid, update(1));
  tap->deliver(mid, update(2));
  tap->run_in_order(mid, [&] { seen = a.frames.size(); });
  tap->deliver(mid, update(3));
  run();
  CAF_CHECK_EQUAL(seen, 2u);
  CAF_CHECK_EQUAL(a.frames.size(), 3u);
}

CAF_TEST(a connection removed while the tap writes to it leaves after the turn) {
  fake_connection a, b;
  tap->add(mid, &a, plain_id, false);
  tap->add(mid, &b, plain_id, false);
  a.on_enqueue = [&] { tap->remove(mid, &a, plain_id); };  // its write failed: it closes
  tap->deliver(mid, update(1));
  run();
  tap->deliver(mid, update(2));
  run();
  CAF_CHECK_EQUAL(a.frames.size(), 1u);
  CAF_CHECK_EQUAL(b.frames.size(), 2u);
}

CAF_TEST(a catch-up written to many connections is built once per identifier) {
  fake_connection a, b, c;
  auto state = actors::make_state_event(who, 3, {"w1 w2 w3 ", "", ""}, true);
  tap->write(a, plain_id, false, state);
  tap->write(b, plain_id, false, state);
  tap->write(c, other_id, false, state);
  CAF_REQUIRE_EQUAL(a.frames.size(), 1u);
  CAF_CHECK(a.frames[0] == b.frames[0]);
  CAF_CHECK(a.frames[0] != c.frames[0]);
  auto again = actors::make_state_event(who, 3, {"w1 w2 w3 ", "", ""}, true);  // equal, not the same
  tap->write(b, plain_id, false, again);
  CAF_CHECK(b.frames[1] != a.frames[0]);
  CAF_CHECK_EQUAL(*b.frames[1], *a.frames[0]);
}

CAF_TEST(nothing is posted once the thread is shut) {
  fake_connection a;
  tap->add(mid, &a, plain_id, false);
  tap->shut();
  tap->deliver(mid, update(1));
  bool ran = false;
  tap->run_in_order(mid, [&] { ran = true; });
  CAF_CHECK_EQUAL(ioc.poll(), 0u);
  CAF_CHECK(!ran);
  CAF_CHECK(a.frames.empty());
}

CAF_TEST(batched sends put the frame on every idle connection and enqueue it for the others) {
  auto batched = std::make_shared<io_tap>(ioc, stats, true);
  socket_connection a, b, busy, full;
  busy.idle = false;  // something queued: the frame must wait behind it
  full.pair.fill();
  for (auto* c : {&a, &b, &busy, &full})
    batched->add(mid, c, plain_id, false);
  batched->deliver(mid, update(1));
  run();
  auto frame = *busy.enqueued.at(0);
  CAF_CHECK_EQUAL(a.received(), wire(frame));
  CAF_CHECK_EQUAL(b.received(), wire(frame));
  CAF_CHECK_EQUAL(a.results, (std::vector<long>{static_cast<long>(wire(frame).size())}));
  CAF_CHECK_EQUAL(busy.results.size(), 0u);
  CAF_CHECK_EQUAL(full.results, (std::vector<long>{-EAGAIN}));  // it queues the frame itself
  CAF_CHECK_EQUAL(stats.broadcasts_total.load(), 4);
  batched->deliver(mid, update(2));  // the connections are idle again
  run();
  CAF_CHECK_EQUAL(a.received(), wire(*busy.enqueued.at(1)));
  batched->shut();
}

CAF_TEST(a frame of no stream goes to every connection given and batched where idle) {
  auto batched = std::make_shared<io_tap>(ioc, stats, true);
  socket_connection idle, busy;
  busy.idle = false;
  auto ping = make_frame(R"({"type":"ping","message":1})");
  batched->write_all({&idle, &busy}, ping);
  CAF_CHECK_EQUAL(idle.received(), wire(*ping));
  CAF_REQUIRE_EQUAL(busy.enqueued.size(), 1u);
  CAF_CHECK(busy.enqueued[0] == ping);
  batched->shut();
}

CAF_TEST_FIXTURE_SCOPE_END()

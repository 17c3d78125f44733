// A connection's write queue: frames go out whole and in order through writes that may stop
// anywhere; updates waiting for the socket merge into one frame (the text stays exact), a frame
// partly on the wire is never changed, the byte limit holds.
#define CAF_SUITE write_queue
#include "test_dsl.hpp"

#include "actors/delivery/stream_frames.hpp"
#include "net/ws/write_queue.hpp"
#include "sockets.hpp"

#include <boost/json.hpp>

using namespace actorcable;
using namespace actorcable::net;

namespace {

const std::string ident = R"({"channel":"SyncChannel","model":"Message","id":"AbCdEf"})";

actors::stream_event_ptr update(std::int64_t mid, std::int64_t offset, const std::string& chunk) {
  return actors::make_update_event({mid, "AbCdEf", "e"}, offset, chunk);
}

frame_ptr frame_of(const actors::stream_event_ptr& ev, const std::string& identifier = ident) {
  return make_frame(broadcast_frame(identifier, ev->message_json, {}));
}

std::string chunk_in(const std::string& frame) {
  auto v = boost::json::parse(frame).as_object();
  return std::string(v.at("message").as_object().at("chunk").as_string());
}

// What a socket taking at most `max` bytes would get from one gathered write.
std::string write(write_queue& q, std::size_t max = SIZE_MAX) {
  std::vector<boost::asio::const_buffer> bufs;
  q.gather(bufs, 32);
  std::string out;
  for (auto& b : bufs)
    out.append(static_cast<const char*>(b.data()), b.size());
  out.resize(std::min(out.size(), max));
  q.consume(out.size());
  return out;
}

std::string write_all(write_queue& q) {
  std::string out;
  while (!q.empty())
    out += write(q);
  return out;
}

struct frame {
  int opcode;
  std::string payload;
};

// Server frames: final, unmasked.
std::vector<frame> frames_in(const std::string& wire) {
  std::vector<frame> out;
  std::size_t i = 0;
  while (i < wire.size()) {
    auto b0 = static_cast<unsigned char>(wire[i]), b1 = static_cast<unsigned char>(wire[i + 1]);
    CAF_REQUIRE_EQUAL(b0 & 0xF0, 0x80);
    CAF_REQUIRE_EQUAL(b1 & 0x80, 0);
    std::size_t len = b1, at = i + 2;
    if (b1 == 126) {
      len = (static_cast<unsigned char>(wire[i + 2]) << 8) | static_cast<unsigned char>(wire[i + 3]);
      at = i + 4;
    } else if (b1 == 127) {
      len = 0;
      for (int k = 0; k < 8; ++k)
        len = (len << 8) | static_cast<unsigned char>(wire[i + 2 + k]);
      at = i + 10;
    }
    CAF_REQUIRE_LESS_OR_EQUAL(at + len, wire.size());
    out.push_back({b0 & 0x0F, wire.substr(at, len)});
    i = at + len;
  }
  return out;
}

}  // namespace

CAF_TEST(updates waiting for the socket merge into one frame with the exact text) {
  write_queue q(1 << 20);
  auto first = update(1, 1, "Hello");
  CAF_CHECK(q.push(frame_of(first), first) == write_queue::result::queued);
  auto wire = write(q, 5);  // the socket took part of the first frame
  CAF_CHECK(q.writing());
  std::vector<std::string> chunks = {", ", "wor", "ld \"quoted\" \\ é"};
  CAF_CHECK(q.push(frame_of(update(1, 2, chunks[0])), update(1, 2, chunks[0]))
            == write_queue::result::queued);
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    auto ev = update(1, static_cast<std::int64_t>(i + 2), chunks[i]);
    CAF_CHECK(q.push(frame_of(ev), ev) == write_queue::result::merged);
  }
  wire += write_all(q);
  auto frames = frames_in(wire);
  CAF_REQUIRE_EQUAL(frames.size(), 2u);
  std::string first_text = *frame_of(first);
  CAF_CHECK_EQUAL(frames[0].payload, first_text);  // the frame on the wire was not touched
  CAF_CHECK_EQUAL(chunk_in(frames[1].payload), ", world \"quoted\" \\ é");
  CAF_CHECK_EQUAL(std::string(boost::json::parse(frames[1].payload).as_object().at("identifier").as_string()), ident);
  CAF_CHECK(q.empty());
  CAF_CHECK_EQUAL(q.bytes(), 0u);
}

CAF_TEST(other messages and identifiers and other frames do not merge) {
  write_queue q(1 << 20);
  auto a = update(1, 1, "a");
  q.push(frame_of(a), a);
  auto wire = write(q, 1);
  auto b = update(1, 2, "b");
  CAF_CHECK(q.push(frame_of(b), b) == write_queue::result::queued);
  auto other_message = update(2, 1, "x");
  CAF_CHECK(q.push(frame_of(other_message), other_message) == write_queue::result::queued);
  auto other_identifier = update(2, 2, "y");
  CAF_CHECK(q.push(frame_of(other_identifier, R"({"model":"Message","channel":"SyncChannel","id":"AbCdEf"})"),
                   other_identifier) == write_queue::result::queued);
  CAF_CHECK(q.push(make_frame(R"({"type":"ping"})")) == write_queue::result::queued);
  auto c = update(2, 3, "z");
  CAF_CHECK(q.push(frame_of(c), c) == write_queue::result::queued);  // not across the ping
  CAF_CHECK_EQUAL(frames_in(wire + write_all(q)).size(), 6u);
}

CAF_TEST(frames handed to a write take no more merges) {
  write_queue q(1 << 20);
  auto a = update(1, 1, "a");
  q.push(frame_of(a), a);
  write(q, 0);  // gathered, nothing taken
  auto b = update(1, 2, "b");
  CAF_CHECK(q.push(frame_of(b), b) == write_queue::result::queued);
  auto frames = frames_in(write_all(q));
  CAF_REQUIRE_EQUAL(frames.size(), 2u);
  CAF_CHECK_EQUAL(chunk_in(frames[0].payload), "a");
  CAF_CHECK_EQUAL(chunk_in(frames[1].payload), "b");
}

CAF_TEST(the byte limit holds for merged text and frames alike) {
  write_queue q(600);
  auto first = update(1, 1, std::string(100, 'a'));
  CAF_REQUIRE(q.push(frame_of(first), first) == write_queue::result::queued);
  auto wire = write(q, 10);
  auto second = update(1, 2, std::string(50, 'b'));
  CAF_REQUIRE(q.push(frame_of(second), second) == write_queue::result::queued);
  auto more = update(1, 3, std::string(40, 'c'));
  CAF_CHECK(q.push(frame_of(more), more) == write_queue::result::merged);
  auto too_much = update(1, 4, std::string(400, 'd'));
  CAF_CHECK(q.push(frame_of(too_much), too_much) == write_queue::result::over_limit);
  CAF_CHECK_LESS_OR_EQUAL(q.waiting_bytes(), 600u);
  q.drop_waiting();  // the frame partly written stays, and is finished whole
  CAF_CHECK(!q.empty());
  wire += write_all(q);
  auto frames = frames_in(wire);
  CAF_REQUIRE_EQUAL(frames.size(), 1u);
  CAF_CHECK_EQUAL(chunk_in(frames[0].payload), std::string(100, 'a'));
  CAF_CHECK(q.empty());
  CAF_CHECK_EQUAL(q.bytes(), 0u);
}

CAF_TEST(a frame larger than the limit goes out when nothing waits before it) {
  write_queue q(600);
  auto state = make_frame(std::string(5000, 's'));  // a long answer's current_state
  CAF_REQUIRE(q.push(state) == write_queue::result::queued);
  auto wire = write(q, 100);
  auto confirm = make_frame("confirm_history");  // right behind the frame on the wire
  CAF_REQUIRE(q.push(confirm) == write_queue::result::queued);
  auto big = update(1, 1, std::string(700, 'b'));  // behind something waiting, over the limit
  CAF_CHECK(q.push(frame_of(big), big) == write_queue::result::over_limit);
  auto small = update(1, 2, "c");
  CAF_CHECK(q.push(frame_of(small), small) == write_queue::result::queued);
  wire += write_all(q);
  auto frames = frames_in(wire);
  CAF_REQUIRE_EQUAL(frames.size(), 3u);
  CAF_CHECK_EQUAL(frames[0].payload, *state);
  CAF_CHECK_EQUAL(frames[1].payload, *confirm);
  CAF_CHECK_EQUAL(chunk_in(frames[2].payload), "c");
}

CAF_TEST(frames of every length class and control frames go out whole byte by byte) {
  write_queue q(1 << 20);
  for (std::size_t n : {0u, 125u, 126u, 65535u, 65536u, 70000u})
    q.push(make_frame(std::string(n, 'x')));
  q.push_unbounded(make_frame(ws_close_payload(ws_close::too_big, "frame exceeds 10 bytes")),
                   ws_opcode::close);
  std::string wire;
  while (!q.empty())
    wire += write(q, 7);  // a socket that takes 7 bytes at a time
  auto frames = frames_in(wire);
  CAF_REQUIRE_EQUAL(frames.size(), 7u);
  std::size_t sizes[] = {0, 125, 126, 65535, 65536, 70000};
  for (int i = 0; i < 6; ++i) {
    CAF_CHECK_EQUAL(frames[i].opcode, 1);
    CAF_CHECK_EQUAL(frames[i].payload, std::string(sizes[i], 'x'));
  }
  CAF_CHECK_EQUAL(frames[6].opcode, 8);
  CAF_CHECK_EQUAL(frames[6].payload, std::string("\x03\xF1", 2) + "frame exceeds 10 bytes");
}

CAF_TEST(a frame the socket took part of is finished first and whole) {
  write_queue q(1 << 20);
  auto first = update(1, 1, "Hello");
  std::string text = *frame_of(first);
  auto whole = testing::text_frame_wire(text);
  std::string wire = whole.substr(0, whole.size() - text.size() + 3);
  q.push_front_started(make_frame(text), wire.size());
  CAF_CHECK(q.writing());
  auto next = update(1, 2, " world");
  CAF_CHECK(q.push(frame_of(next), next) == write_queue::result::queued);
  wire += write_all(q);
  auto frames = frames_in(wire);
  CAF_REQUIRE_EQUAL(frames.size(), 2u);
  CAF_CHECK_EQUAL(frames[0].payload, text);
  CAF_CHECK_EQUAL(chunk_in(frames[1].payload), " world");
  CAF_CHECK_EQUAL(q.bytes(), 0u);
}

CAF_TEST(frames pushed while earlier ones drain keep their order and a drained queue holds no slots) {
  write_queue q(1 << 20);
  std::vector<std::string> sent;
  std::string wire;
  for (int i = 0; i < 500; ++i) {
    sent.push_back("frame " + std::to_string(i));
    q.push_unbounded(make_frame(sent.back()));
    if (i % 3 == 0)
      wire += write(q, 7);  // a socket that takes a few bytes at a time
  }
  CAF_CHECK_GREATER(q.slots(), 8u);  // the burst grew the queue
  wire += write_all(q);
  auto frames = frames_in(wire);
  CAF_REQUIRE_EQUAL(frames.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i)
    CAF_CHECK_EQUAL(frames[i].payload, sent[i]);
  CAF_CHECK_EQUAL(q.bytes(), 0u);
  CAF_CHECK_EQUAL(q.slots(), 0u);  // an idle connection keeps nothing of the burst
}

CAF_TEST(the rest of a frame sent elsewhere goes out before the frames queued behind it) {
  write_queue q(1 << 20);
  auto later = update(1, 2, " world");
  CAF_CHECK(q.push(frame_of(later), later) == write_queue::result::queued);
  auto first = update(1, 1, "Hello");
  std::string text = *frame_of(first);
  auto whole = testing::text_frame_wire(text);
  std::string wire = whole.substr(0, whole.size() - text.size() + 4);  // what a batched send took
  q.push_front_started(make_frame(text), wire.size());
  CAF_CHECK(q.writing());
  wire += write_all(q);
  auto frames = frames_in(wire);
  CAF_REQUIRE_EQUAL(frames.size(), 2u);
  CAF_CHECK_EQUAL(frames[0].payload, text);
  CAF_CHECK_EQUAL(chunk_in(frames[1].payload), " world");
  CAF_CHECK_EQUAL(q.bytes(), 0u);
}

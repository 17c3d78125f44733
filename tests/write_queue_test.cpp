// A slow client's queue: updates of one message merge into the frame waiting before them (the
// text stays exact), the frame being written is never changed, the byte limit holds.
#define CAF_SUITE write_queue
#include "test_dsl.hpp"

#include "actors/stream_frames.hpp"
#include "net/write_queue.hpp"

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

}  // namespace

CAF_TEST(updates waiting behind a write merge into one frame with the exact text) {
  write_queue q(1 << 20);
  auto first = update(1, 1, "Hello");
  CAF_CHECK(q.push(frame_of(first), first) == write_queue::result::queued);
  auto& writing = q.start_write();
  auto written_text = writing;
  std::vector<std::string> chunks = {", ", "wor", "ld \"quoted\" \\ é"};
  CAF_CHECK(q.push(frame_of(update(1, 2, chunks[0])), update(1, 2, chunks[0]))
            == write_queue::result::queued);
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    auto ev = update(1, static_cast<std::int64_t>(i + 2), chunks[i]);
    CAF_CHECK(q.push(frame_of(ev), ev) == write_queue::result::merged);
  }
  CAF_CHECK_EQUAL(writing, written_text);  // the frame being written was not touched
  q.finish_write();
  auto merged = q.start_write();
  CAF_CHECK_EQUAL(chunk_in(merged), ", world \"quoted\" \\ é");
  CAF_CHECK_EQUAL(std::string(boost::json::parse(merged).as_object().at("identifier").as_string()), ident);
  q.finish_write();
  CAF_CHECK(q.empty());
  CAF_CHECK_EQUAL(q.bytes(), 0u);
}

CAF_TEST(other messages and identifiers and other frames do not merge) {
  write_queue q(1 << 20);
  auto a = update(1, 1, "a");
  q.push(frame_of(a), a);
  q.start_write();
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
}

CAF_TEST(the byte limit holds for merged text and frames alike) {
  write_queue q(600);
  auto first = update(1, 1, std::string(100, 'a'));
  CAF_REQUIRE(q.push(frame_of(first), first) == write_queue::result::queued);
  q.start_write();
  auto second = update(1, 2, std::string(50, 'b'));
  CAF_REQUIRE(q.push(frame_of(second), second) == write_queue::result::queued);
  auto more = update(1, 3, std::string(40, 'c'));
  CAF_CHECK(q.push(frame_of(more), more) == write_queue::result::merged);
  auto too_much = update(1, 4, std::string(200, 'd'));
  CAF_CHECK(q.push(frame_of(too_much), too_much) == write_queue::result::over_limit);
  CAF_CHECK_LESS_OR_EQUAL(q.bytes(), 600u);
  q.drop_waiting();  // the frame being written stays
  CAF_CHECK(!q.empty());
  q.finish_write();
  CAF_CHECK(q.empty());
  CAF_CHECK_EQUAL(q.bytes(), 0u);
}

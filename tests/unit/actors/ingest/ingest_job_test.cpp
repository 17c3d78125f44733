// An outside producer as a stream's job (SPEC §11): its NDJSON lines as parts, and the job actor
// between the HTTP request and the message actor, started through the directory like any stream.
#define CAF_SUITE ingest_job
#include "test_dsl.hpp"

#include "actors/ingest/ingest_job.hpp"
#include "actors/stream/directory.hpp"
#include "fake_actors.hpp"

using namespace actorcable::actors;
using namespace actorcable::testing;

namespace {

// Counts what the job tells the request.
struct counting_sink : ingest_sink {
  int taken_count = 0;
  int ended_count = 0;
  void taken() override { ++taken_count; }
  void ended() override { ++ended_count; }
};

ingest_part part_of(std::string_view line) {
  auto parsed = parse_ingest_part(line);
  CAF_REQUIRE(std::holds_alternative<ingest_part>(parsed));
  return std::get<ingest_part>(parsed);
}

struct fixture : test_coordinator_fixture<> {
  stream_writer_actor writer = sys.spawn(fake_writer);
  directory_actor dir;
  std::shared_ptr<counting_sink> sink = std::make_shared<counting_sink>();
  caf::actor job = sys.spawn(ingest_job, std::shared_ptr<ingest_sink>(sink));
  fixture() {
    job_launcher no_provider = [](caf::local_actor*, const job_spec&) -> caf::actor {
      CAF_FAIL("a producer's stream launched a provider");
      return {};
    };
    dir = sys.spawn(directory, message_actor_config{}, writer, no_provider);
  }
  bool start(std::int64_t id, caf::actor producer) {
    job_spec spec;
    spec.message_id = id;
    spec.chat_id = 1;
    spec.producer = std::move(producer);
    bool started = false;
    auto pending = self->request(dir, caf::infinite, ingest_atom::value, std::move(spec));
    consume_messages();
    pending.receive([&](bool ok) { started = ok; }, [&](caf::error& e) { CAF_FAIL(caf::to_string(e)); });
    return started;
  }
  void send_lines(std::initializer_list<std::string_view> lines) {
    std::vector<ingest_part> parts;
    for (auto line : lines)
      parts.push_back(part_of(line));
    self->send(job, ingest_parts_atom::value, std::move(parts));
  }
  const stream_close& finish() {
    auto& fw = deref<fake_writer_actor>(writer).state;
    CAF_REQUIRE_EQUAL(fw.finishes.size(), 1u);
    return fw.finishes.front();
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(ingest_job_tests, fixture)

CAF_TEST(lines parse into parts and anything else is refused with why) {
  CAF_CHECK_EQUAL(part_of(R"({"type":"text","text":"hi"})").text, "hi");
  CAF_CHECK(part_of(R"({"type":"thinking","text":"hm"})").type == ingest_part::kind::thinking);
  auto tool = part_of(R"({"type":"tool","call_id":"c","name":"n","status":"done","summary":"s","extra":1})");
  CAF_CHECK_EQUAL(tool.call.status, "done");
  CAF_CHECK_EQUAL(tool.call.summary, "s");
  auto usage = part_of(R"({"type":"usage","input_tokens":3,"output_tokens":4,"model_id":"m"})");
  CAF_CHECK_EQUAL(*usage.usage.output_tokens, 4);
  auto end = part_of(R"({"type":"end","status":"error","error":"gave up"})");
  CAF_CHECK(end.failed);
  CAF_CHECK_EQUAL(end.error, "gave up");
  CAF_CHECK(!part_of(R"({"type":"end"})").failed);
  for (auto bad : {"", "[]", "nope", R"({"text":"x"})", R"({"type":7})", R"({"type":"text"})",
                   R"({"type":"text","text":1})", R"({"type":"tool","call_id":"c","name":"n","status":"maybe"})",
                   R"({"type":"usage","input_tokens":-1})", R"({"type":"usage","output_tokens":"3"})",
                   R"({"type":"end","status":"done"})", R"({"type":"image"})", "{\"type\":\"text\",\"text\":\"\xff\"}"})
    if (!std::holds_alternative<std::string>(parse_ingest_part(bad)))
      CAF_FAIL("a line that is no part was accepted: " << bad);
}

CAF_TEST(parts reach the stream in order and an end line completes it) {
  send_lines({R"({"type":"thinking","text":"hm"})"});  // before the stream: kept until it starts
  CAF_REQUIRE(start(7, job));
  consume_messages();
  CAF_CHECK_EQUAL(sink->taken_count, 1);
  send_lines({R"({"type":"text","text":"one "})", R"({"type":"tool","call_id":"c","name":"n","status":"running","summary":"busy"})",
              R"({"type":"text","text":"two"})", R"({"type":"usage","input_tokens":5})",
              R"({"type":"usage","output_tokens":2,"model_id":"agent"})", R"({"type":"end","status":"complete"})"});
  consume_messages();
  auto& f = finish();
  CAF_CHECK_EQUAL(f.content, "one two");
  CAF_CHECK_EQUAL(f.thinking, "hm");
  CAF_CHECK_EQUAL(actorcable::model::to_string(f.status), "complete");
  CAF_CHECK_EQUAL(f.result.model_id, "agent");
  CAF_CHECK_EQUAL(*f.result.input_tokens, 5);  // a later usage part keeps what it leaves out
  CAF_CHECK_EQUAL(*f.result.output_tokens, 2);
  CAF_CHECK_EQUAL(sink->ended_count, 1);
}

CAF_TEST(an error end from the producer and a lost producer end the stream error with their reason) {
  CAF_REQUIRE(start(8, job));
  send_lines({R"({"type":"text","text":"kept"})", R"({"type":"end","status":"error","error":"the agent gave up"})"});
  consume_messages();
  CAF_CHECK_EQUAL(finish().content, "kept");
  CAF_CHECK_EQUAL(actorcable::model::to_string(finish().status), "error");
  CAF_CHECK_EQUAL(finish().error, "the agent gave up");

  auto sink2 = std::make_shared<counting_sink>();
  auto lost = sys.spawn(ingest_job, std::shared_ptr<ingest_sink>(sink2));
  CAF_REQUIRE(start(9, lost));
  self->send(lost, ingest_lost_atom::value, std::string("producer lost"));
  consume_messages();
  auto& fw = deref<fake_writer_actor>(writer).state;
  CAF_REQUIRE_EQUAL(fw.finishes.size(), 2u);
  CAF_CHECK_EQUAL(fw.finishes.back().error, "producer lost");
  CAF_CHECK_EQUAL(sink2->ended_count, 1);
}

CAF_TEST(a message with a stream here takes no second producer) {
  CAF_REQUIRE(start(10, job));
  auto second = sys.spawn(ingest_job, std::shared_ptr<ingest_sink>(std::make_shared<counting_sink>()));
  CAF_CHECK(!start(10, second));
  self->send_exit(second, caf::exit_reason::kill);
  send_lines({R"({"type":"end"})"});
  consume_messages();
  CAF_CHECK_EQUAL(actorcable::model::to_string(finish().status), "complete");
}

CAF_TEST(a stop kills the job of the producer and the request hears of it) {
  CAF_REQUIRE(start(11, job));
  send_lines({R"({"type":"text","text":"partial"})"});
  consume_messages();
  self->send(dir, cancel_atom::value, std::int64_t{11});
  consume_messages();
  CAF_CHECK_EQUAL(actorcable::model::to_string(finish().status), "cancelled");
  CAF_CHECK_EQUAL(finish().content, "partial");
  CAF_CHECK_EQUAL(sink->ended_count, 1);
}

CAF_TEST_FIXTURE_SCOPE_END()

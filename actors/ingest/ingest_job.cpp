#include "actors/ingest/ingest_job.hpp"

#include "actors/errors.hpp"
namespace actorcable::actors {
namespace {

using self_ptr = caf::stateful_actor<ingest_job_state>*;

// Hands the parts to the message actor; false once an end part ended the job.
bool hand_over(self_ptr self, std::vector<ingest_part>& parts) {
  auto& stream = self->state.stream;
  for (auto& p : parts) {
    switch (p.type) {
      case ingest_part::kind::text:
        self->send(stream, chunk_atom::value, std::move(p.text));
        break;
      case ingest_part::kind::thinking:
        self->send(stream, thinking_atom::value, std::move(p.text));
        break;
      case ingest_part::kind::tool:
        self->send(stream, tool_atom::value, std::move(p.call));
        break;
      case ingest_part::kind::usage: {  // what a later report leaves out stays as reported
        auto& u = self->state.usage;
        if (!p.usage.model_id.empty())
          u.model_id = std::move(p.usage.model_id);
        if (p.usage.input_tokens)
          u.input_tokens = p.usage.input_tokens;
        if (p.usage.output_tokens)
          u.output_tokens = p.usage.output_tokens;
        self->send(stream, job_done_atom::value, u);
        break;
      }
      case ingest_part::kind::end:
        if (p.failed)
          self->quit(make_error(errc::producer_failed,
                                     p.error.empty() ? std::string("the producer reported an error")
                                                     : std::move(p.error)));
        else
          self->quit();
        return false;
    }
  }
  return true;
}

// Reads on once the message actor has taken the parts (it answers after them): a producer can
// never queue more than one read's worth of lines ahead of the stream.
void when_taken(self_ptr self, const std::shared_ptr<ingest_sink>& sink) {
  self->request(self->state.stream, caf::infinite, info_atom::value)
    .then([sink](const stream_info&) { sink->taken(); },
          [](caf::error&) {});  // the stream is gone: ended() follows
}

}  // namespace

caf::behavior ingest_job(self_ptr self, std::shared_ptr<ingest_sink> sink) {
  self->attach_functor([sink](const caf::error&) { sink->ended(); });
  return {
    [=](start_atom, caf::actor& stream) {
      auto& st = self->state;
      st.stream = std::move(stream);
      auto parts = std::move(st.waiting);
      st.waiting.clear();
      if (!parts.empty() && hand_over(self, parts))
        when_taken(self, sink);
    },
    [=](ingest_parts_atom, std::vector<ingest_part>& parts) {
      auto& st = self->state;
      if (!st.stream) {
        for (auto& p : parts)
          st.waiting.push_back(std::move(p));
        return;
      }
      if (hand_over(self, parts))
        when_taken(self, sink);
    },
    [=](ingest_alive_atom) {
      if (self->state.stream)
        self->send(self->state.stream, alive_atom::value);
    },
    [=](ingest_lost_atom, std::string& reason) {
      self->quit(make_error(errc::producer_failed, std::move(reason)));
    },
  };
}

}  // namespace actorcable::actors

#include "actors/stream/message_actor.hpp"

#include "actors/errors.hpp"
#include "actors/stream/message_parts.hpp"

#include "actors/delivery/stream_frames.hpp"
#include "common/log.hpp"
#include "model/obfuscated_id.hpp"
#include "actors/stream/earlier_answers.hpp"

#include <algorithm>
#include <random>

namespace actorcable::actors {
namespace {

using namespace message_parts;

void flush(self_ptr self, const stream_writer_actor& writer) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (auto delta = st.answer.take_delta(st.id))
    self->send(writer, append_atom::value, std::move(*delta));
}

// Sends the part just added to every subscriber; the writer gets it with the next flush.
void part_added(self_ptr self, const message_actor_config& cfg) {
  auto& st = self->state;
  count(cfg.metrics, &metrics::chunks_total, 1);
  broadcast(self, cfg, st.answer.part_event(identity(self), st.answer.parts()));
  if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->delayed_send(self, cfg.flush_interval, caf::flush_atom::value);
  }
}

// Ends the stream `cancelled` (the job is killed); false when it had ended already.
bool cancel(self_ptr self, const message_actor_config& cfg, const stream_writer_actor& writer) {
  if (!self->state.streaming)
    return false;
  self->state.cancel_requested = true;
  stop_streaming(self, cfg, writer, model::stream_status::cancelled, "");
  return true;
}

// Whether the stream still takes the job's parts; the job counts as active from now.
bool job_active(self_ptr self) {
  if (!self->state.streaming)
    return false;
  self->state.last_activity = self->clock().now();
  return true;
}

void schedule_idle_check(self_ptr self, caf::timespan after) {
  self->state.idle_check_scheduled = true;
  self->delayed_send(self, after, idle_atom::value);
}

model::stream_status status_for_exit(const message_state& st, const caf::error& reason) {
  using model::stream_status;
  if (st.cancel_requested)
    return stream_status::cancelled;
  if (!reason)
    return stream_status::complete;
  if (reason == caf::exit_reason::kill || reason == caf::exit_reason::user_shutdown)
    return stream_status::interrupted;
  return stream_status::error;
}

std::string new_epoch() {
  static constexpr char hex[] = "0123456789abcdef";
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 8; ++i)
    out += hex[rd() & 0xF];
  return out;
}

// Starts the job once the chat's answers asked before this one have ended (SPEC §9 on_busy).
// The spec leaves the state now: it is handed to the job, not kept for the actor's life.
void start_job(self_ptr self, const message_actor_config& cfg, const job_launcher& launch) {
  auto& st = self->state;
  if (!st.streaming || !st.spec)
    return;
  auto spec = std::move(*st.spec);
  st.spec.reset();
  after_earlier_answers(self, cfg.directory, std::move(spec),
                        cfg.writer_timeout + std::chrono::seconds(5), [=](job_spec& ready) {
                          auto& st = self->state;
                          if (!st.streaming)
                            return;  // stopped while it waited
                          if (ready.producer) {  // an outside producer is the job (SPEC §11)
                            st.producer = true;
                            st.job = ready.producer;
                            self->link_to(st.job);
                            tell(self, st.job, start_atom::value, caf::actor_cast<caf::actor>(self));
                          } else {
                            st.job = launch(self, ready);
                          }
                          self->monitor(st.job);
                          schedule_idle_check(self, cfg.idle_timeout);
                        });
}

}  // namespace

message_actor_actor::behavior_type
message_actor(self_ptr self, job_spec spec, message_actor_config cfg, stream_writer_actor writer,
              job_launcher launch) {
  auto& st = self->state;
  st.id = spec.message_id;
  st.oid = model::encode_id(model::model_kind::message, spec.message_id);
  if (spec.resumed) {
    st.answer.restore(*spec.resumed);
    st.continued = true;
    st.generation = spec.resumed->continuations;
  }
  st.spec = std::move(spec);  // handed to the job at start, not kept for the actor's life
  st.epoch = new_epoch();
  st.last_activity = st.started_at = self->clock().now();
  count(cfg.metrics, &metrics::active_streams, 1);
  count(cfg.metrics, &metrics::message_actors, 1);
  // The job is linked so it dies with us; its own exit (which may come after its down message)
  // is handled by the down handler below.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (msg.source != self->state.job)
      quit_counted(self, cfg, msg.reason);
  });
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.job) {
      auto status = status_for_exit(st, msg.reason);
      if (status == model::stream_status::error && st.continued)
        status = model::stream_status::interrupted;  // SPEC §12: a continuation that fails
      std::string error;
      if (status == model::stream_status::error && st.producer)
        error = error_words(msg.reason);  // the producer's own words, or why it was lost
      else if (status == model::stream_status::error)
        error = "job failed: " + error_words(msg.reason);
      else if (status == model::stream_status::interrupted && st.continued)
        error = "continuation failed: " + error_words(msg.reason);
      else if (status == model::stream_status::interrupted)
        error = "job was killed: " + error_words(msg.reason);
      stop_streaming(self, cfg, writer, status, error);
      return;
    }
    drop_subscriber(self, cfg, msg.source);
  });
  return {
    [=](start_atom) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      self->request(writer, cfg.writer_timeout, claim_atom::value, self->state.id)
        .then(
          [=](bool exists) mutable {
            auto& st = self->state;
            if (!exists) {
              auto err = make_error(errc::not_streaming, "message " + std::to_string(st.id)
                                                           + " does not exist or is not streaming");
              log::error("message", "start_refused", {{"message_id", st.id},
                                                      {"reason", "no such streaming row"}});
              rp.deliver(err);
              quit_counted(self, cfg, err);
              return;
            }
            start_job(self, cfg, launch);
            rp.deliver(true);
          },
          [=](caf::error& err) mutable {
            // The database is unreachable: the row was created by this node, stream anyway;
            // the writer keeps retrying the content.
            log::warn("message", "claim_failed",
                      {{"message_id", self->state.id}, {"error", caf::to_string(err)}});
            start_job(self, cfg, launch);
            rp.deliver(true);
          });
      return rp;
    },
    // A job that sends after the stream ended is ignored.
    [=](chunk_atom, const std::string& raw) {
      if (!job_active(self))
        return;
      auto& st = self->state;
      bool first = st.answer.content().empty();
      if (!st.answer.add_text(raw))
        return;
      if (first && cfg.metrics)
        cfg.metrics->first_token_seconds.observe(
          std::chrono::duration<double>(self->clock().now() - st.started_at).count());
      part_added(self, cfg);
    },
    [=](thinking_atom, const std::string& raw) {
      if (job_active(self) && self->state.answer.add_thinking(raw))
        part_added(self, cfg);
    },
    [=](tool_atom, tool_call& call) {
      if (!job_active(self))
        return;
      if (self->state.answer.add_tool(std::move(call)))
        part_added(self, cfg);
      else
        log::warn("message", "tool_report_ignored",
                  {{"message_id", self->state.id}, {"reason", "status is not running, done or error"}});
    },
    [=](caf::flush_atom) { flush(self, writer); },
    [=](alive_atom) { job_active(self); },
    [=](job_done_atom, job_result& result) {
      if (self->state.streaming)
        self->state.result = std::move(result);
    },
    [=](idle_atom) {
      auto& st = self->state;
      st.idle_check_scheduled = false;
      if (!st.streaming)
        return;
      auto silent = self->clock().now() - st.last_activity;
      if (silent >= cfg.idle_timeout) {
        log::warn("message", "job_idle_timeout", {{"message_id", st.id}});
        stop_streaming(self, cfg, writer, model::stream_status::error,
                       st.producer ? "producer lost"
                                   : "no output from the job within the idle timeout");
        return;
      }
      schedule_idle_check(self, cfg.idle_timeout - silent);
    },
    [=](caf::subscribe_atom, caf::actor& sub, bool want_state) -> caf::actor {
      catchup c;
      c.how = want_state ? catchup::mode::state_if_streaming : catchup::mode::none;
      add_subscriber(self, cfg, sub, c);
      return caf::actor_cast<caf::actor>(self);
    },
    [=](caf::subscribe_atom, caf::actor& sub, catchup& c) -> caf::result<caf::actor, bool> {
      bool accepted = add_subscriber(self, cfg, sub, c);
      return {caf::actor_cast<caf::actor>(self), accepted};
    },
    [=](caf::unsubscribe_atom, const caf::actor& sub) {
      self->demonitor(sub);
      drop_subscriber(self, cfg, sub.address());
    },
    [=](cancel_atom) { return cancel(self, cfg, writer); },
    [=](await_end_atom, bool cancel_first) -> caf::result<std::string> {
      auto& st = self->state;
      if (cancel_first)
        cancel(self, cfg, writer);
      if (st.ended)
        return st.answer.content();
      auto rp = self->make_response_promise<std::string>();
      st.end_waiters.push_back([=]() mutable { rp.deliver(self->state.answer.content()); });
      return rp;
    },
    [=](outcome_atom) -> caf::result<model::stream_status, std::int64_t, std::int64_t> {
      auto outcome = [self]() -> std::tuple<model::stream_status, std::int64_t, std::int64_t> {
        auto& st = self->state;
        return {st.status, static_cast<std::int64_t>(st.answer.content().size()),
                st.answer.parts()};
      };
      if (self->state.ended) {
        auto [status, bytes, parts] = outcome();
        return {status, bytes, parts};
      }
      auto rp = self->make_response_promise<model::stream_status, std::int64_t, std::int64_t>();
      self->state.end_waiters.push_back([=]() mutable {
        auto [status, bytes, parts] = outcome();
        rp.deliver(status, bytes, parts);
      });
      return rp;
    },
    [=](end_atom, model::stream_status status, std::string& reason, bool wait_for_write) {
      log::warn("message", "stream_ended_by_server",
                {{"message_id", self->state.id}, {"status", model::to_string(status)}, {"reason", reason}});
      stop_streaming(self, cfg, writer, status, std::move(reason), wait_for_write);
    },
    [=](handover_atom) -> caf::result<bool> { return hand_over(self, cfg, writer); },
    [=](moved_atom) { move_away(self, cfg); },
    [=](caf::get_atom) { return self->state.answer.content(); },
    [=](info_atom) {
      auto& st = self->state;
      return stream_info{st.epoch, st.answer.parts(), st.ended, st.generation};
    },
    [=](retire_atom) {
      log::info("message", "stream_retired", {{"message_id", self->state.id}});
      quit_counted(self, cfg, caf::none);
    },
  };
}

}  // namespace actorcable::actors

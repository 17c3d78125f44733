// How a message actor's stream ends (actors/stream/message_parts.hpp): stopped and stored,
// handed over to a peer, or moved to the node that took its row.
#include "actors/stream/message_parts.hpp"

#include "common/log.hpp"

namespace actorcable::actors::message_parts {
namespace {

void announce_end(self_ptr self, const message_actor_config& cfg) {
  auto& st = self->state;
  if (st.ended)
    return;
  st.ended = true;
  broadcast(self, cfg, end_event(self));
  for (auto& waiter : st.end_waiters)
    waiter();
  st.end_waiters.clear();
  log::info("message", "stream_ended",
            {{"message_id", st.id}, {"status", model::to_string(st.status)}, {"parts", st.answer.parts()},
             {"bytes", st.answer.content().size()}});
  self->delayed_send(self, cfg.retention, retire_atom::value);
}

}  // namespace

void quit_counted(self_ptr self, const message_actor_config& cfg, caf::error reason) {
  if (self->state.streaming)
    count(cfg.metrics, &metrics::active_streams, -1);
  count(cfg.metrics, &metrics::message_actors, -1);
  count(cfg.metrics, &metrics::stream_subscribers,
        -static_cast<std::int64_t>(self->state.subscribers.size() + self->state.tapped.size()));
  self->quit(std::move(reason));
}

void stop_streaming(self_ptr self, const message_actor_config& cfg, const stream_writer_actor& writer,
                    model::stream_status status, std::string error, bool wait_for_write) {
  auto& st = self->state;
  if (!st.streaming)
    return;
  st.streaming = false;
  st.status = status;
  if (st.job && status != model::stream_status::complete)
    self->send_exit(st.job, caf::exit_reason::kill);  // a stalled or cancelled job must not linger
  stream_close close{st.id, st.answer.content(), st.answer.thinking(), st.answer.tool_calls_json(),
                     status, std::move(error), st.result};
  st.answer.mark_handed();
  auto pending = self->request(writer, cfg.writer_timeout, finish_atom::value, std::move(close));
  if (cfg.metrics)
    cfg.metrics->answer_seconds.observe(
      std::chrono::duration<double>(self->clock().now() - st.started_at).count());
  // Counted as ended only once the final write is queued: a shutdown that waits for no active
  // stream then finds every final write ahead of its own flush request.
  count(cfg.metrics, &metrics::active_streams, -1);
  count(cfg.metrics, &metrics::streams_ended_total, 1);
  if (!wait_for_write)
    announce_end(self, cfg);
  std::move(pending)
    .then([=](bool written) {
            if (!written)
              log::warn("message", "final_write_skipped",
                        {{"message_id", self->state.id},
                         {"reason", "row no longer streaming or owned by another node"}});
            announce_end(self, cfg);
          },
          [=](caf::error& err) {
            log::error("message", "final_write_failed",
                       {{"message_id", self->state.id}, {"error", caf::to_string(err)}});
            announce_end(self, cfg);
          });
}

// SPEC §12: the job stops, the whole text is stored and the row's lease ends, so that a peer
// takes the answer over and continues it. No end is announced: relays on other nodes wait for
// the new owner; this node's clients were told to reconnect.
caf::result<bool> hand_over(self_ptr self, const message_actor_config& cfg,
                            const stream_writer_actor& writer) {
  auto& st = self->state;
  if (!st.streaming || st.producer)
    return false;  // an outside producer's stream is not continued (SPEC §11)
  st.streaming = false;
  if (st.job)
    self->send_exit(st.job, caf::exit_reason::kill);
  stream_close state;
  state.message_id = st.id;
  state.content = st.answer.content();
  state.thinking = st.answer.thinking();
  state.tool_calls = st.answer.tool_calls_json();
  st.answer.mark_handed();
  auto rp = self->make_response_promise<bool>();
  self->request(writer, cfg.writer_timeout, release_atom::value, std::move(state))
    .then(
      [=](bool released) mutable {
        if (!released) {  // another node closed or took the row meanwhile
          self->state.streaming = true;
          stop_streaming(self, cfg, writer, model::stream_status::interrupted,
                         "lease lost: the stream was closed by another node", false);
          rp.deliver(false);
          return;
        }
        count(cfg.metrics, &metrics::active_streams, -1);
        count(cfg.metrics, &metrics::handovers_total, 1);
        log::info("message", "stream_handed_over",
                  {{"message_id", self->state.id}, {"bytes", self->state.answer.content().size()}});
        rp.deliver(true);
        quit_counted(self, cfg, caf::none);
      },
      [=](caf::error& err) mutable {  // the database is down: end it as a lone node would
        log::warn("message", "handover_failed",
                  {{"message_id", self->state.id}, {"error", caf::to_string(err)}});
        self->state.streaming = true;
        stop_streaming(self, cfg, writer, model::stream_status::interrupted, "the server shut down");
        rp.deliver(false);
      });
  return rp;
}

void move_away(self_ptr self, const message_actor_config& cfg) {
  auto& st = self->state;
  if (!st.streaming)
    return;
  log::warn("message", "stream_moved", {{"message_id", st.id},
                                        {"reason", "lease lost: another node took the row"}});
  if (st.job)
    self->send_exit(st.job, caf::exit_reason::kill);
  // Before quitting: the directory forgets this actor before a subscriber, told of the quit,
  // can ask it for the answer again.
  if (cfg.directory)
    self->send(cfg.directory, moved_atom::value, st.id);
  quit_counted(self, cfg, stream_moved);
}

}  // namespace actorcable::actors::message_parts

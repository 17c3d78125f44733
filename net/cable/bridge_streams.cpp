// The message streams of a bridge: routes from message actors to identifiers, catch-up
// (current_state or history replay) before a route goes live, and forwarding of events.
#include "actors/delivery/stream_frames.hpp"
#include "common/log.hpp"
#include "net/cable/cable_bridge.hpp"
#include "net/ws/io_tap.hpp"

#include <algorithm>
#include <chrono>

namespace actorcable::net {
namespace {

using namespace std::chrono_literals;
using actors::catchup;
using actors::stream_event;

route* find_route(stream_link& link, const std::string& identifier) {
  for (auto& r : link.routes)
    if (r.identifier == identifier)
      return &r;
  return nullptr;
}

void emit(bridge_ptr self, const bridge_config& cfg, const std::string& identifier,
          const actors::stream_event_ptr& event) {
  auto& ev = *event;
  auto frame = event_frame(ev, identifier, cfg.extended);
  if (cfg.metrics)
    count_broadcast(*cfg.metrics, ev, *frame, 1);
  if (auto update = mergeable(event, cfg.extended))
    self->state.socket->send_update(std::move(frame), std::move(update));
  else
    self->state.socket->send(std::move(frame));
}

// No actor streams this message here (it ended and its history is gone, or it never streamed,
// or its node died): the client still learns from the row how it ended, and with `with_state`
// gets the stored text as current_state first.
void send_stored_state(bridge_ptr self, const bridge_config& cfg, std::int64_t mid,
                       const std::string& identifier, bool with_state) {
  auto bridge = caf::actor_cast<caf::actor>(self);
  cfg.run_blocking([bridge, store = cfg.store, mid, identifier, with_state] {
    std::optional<model::message> row;
    try {
      row = store->message(mid);
    } catch (const std::exception& e) {
      log::error("cable", "row_lookup_failed", {{"message_id", mid}, {"error", e.what()}});
    }
    stored_row r{identifier, mid};
    if (row) {
      r.content = row->content;
      r.thinking = row->thinking_text;
      r.tool_status = row->tool_status;
      r.streaming = row->streaming;
      r.status = row->stream_status;
      r.with_state = with_state;
      r.usage = {row->model_id, row->input_tokens, row->output_tokens};
    }
    caf::anon_send(bridge, row_atom::value, std::move(r));
  });
}

}  // namespace

void send_text(bridge_ptr self, std::string text) {
  self->state.socket->send(make_frame(std::move(text)));
}

catchup catchup_for(const subscription& sub, std::int64_t mid, bool extended) {
  catchup c;
  if (!extended || !sub.history)
    return c;  // state_if_streaming
  auto pos = sub.history->streams.find("Message:" + model::encode_id(model::model_kind::message, mid));
  if (pos == sub.history->streams.end()) {
    c.how = catchup::mode::state_always;
  } else {
    c.how = catchup::mode::replay;
    c.after = pos->second.offset;
    c.epoch = pos->second.epoch;
  }
  return c;
}

void history_step_done(bridge_ptr self, const std::string& identifier) {
  auto it = self->state.subs.find(identifier);
  if (it == self->state.subs.end() || it->second.catchups_pending == 0)
    return;
  if (--it->second.catchups_pending == 0) {
    if (!it->second.history_failed)
      send_text(self, confirm_history_frame(identifier));
    it->second.history_failed = false;
  }
}

void catch_up(bridge_ptr self, const bridge_config& cfg, std::int64_t mid,
              const std::string& identifier, catchup how, const caf::actor& known) {
  auto& link = self->state.streams[mid];
  auto* r = find_route(link, identifier);
  if (!r) {
    link.routes.push_back(route{identifier});
    r = &link.routes.back();
  }
  r->live = false;
  r->tag = how.tag = ++self->state.next_tag;
  how.port = self->state.socket->port();
  how.identifier = identifier;
  auto me = caf::actor_cast<caf::actor>(self);
  auto on_reply = [=, &cfg](caf::actor& stream, bool accepted) {
    auto& st = self->state;
    auto l = st.streams.find(mid);
    auto* r = l == st.streams.end() ? nullptr : find_route(l->second, identifier);
    if (!r)
      st.socket->detach(mid, identifier);  // unsubscribed meanwhile: undo the attach, if any
    if (l == st.streams.end()) {
      if (stream)
        self->send(stream, caf::unsubscribe_atom::value, me);
      return;
    }
    if (!r || r->tag != how.tag)
      return;  // superseded by a newer catch-up
    if (stream && !l->second.actor) {
      l->second.actor = stream;
      self->monitor(stream);
    }
    if (how.how == catchup::mode::replay && !accepted) {
      send_text(self, reject_history_frame(identifier));
      if (auto s = st.subs.find(identifier); s != st.subs.end())
        s->second.history_failed = true;
      catchup whole;
      whole.how = catchup::mode::state_always;
      catch_up(self, cfg, mid, identifier, whole, stream);
      return;
    }
    r->live = true;
    r->tag = 0;
    if (!stream && how.how != catchup::mode::none) {
      send_stored_state(self, cfg, mid, identifier, how.how != catchup::mode::state_if_streaming);
      return;  // history_step_done once the row is sent
    }
    history_step_done(self, identifier);
  };
  // The stream's actor was gone by the time the request reached it (it retired or moved while
  // the directory still listed it), or did not answer: the client is answered as if no actor
  // streamed the message (a replay refused, then the row's state; the row's end), never left
  // waiting.
  auto on_error = [=, &cfg](caf::error& err) mutable {
    log::warn("cable", "stream_subscribe_failed", {{"connection", cfg.connection_id},
                                                   {"message_id", mid},
                                                   {"error", caf::to_string(err)}});
    caf::actor none;
    on_reply(none, false);
  };
  auto target = link.actor ? link.actor : known;
  if (target)
    self->request(target, 10s, caf::subscribe_atom::value, me, how).then(on_reply, on_error);
  else
    self->request(cfg.directory, 10s, caf::subscribe_atom::value, mid, me, how)
      .then(on_reply, on_error);
}

void remove_route(bridge_ptr self, std::int64_t mid, const std::string& identifier) {
  auto& st = self->state;
  auto link = st.streams.find(mid);
  if (link == st.streams.end())
    return;
  auto& routes = link->second.routes;
  routes.erase(std::remove_if(routes.begin(), routes.end(),
                              [&](const route& r) { return r.identifier == identifier; }),
               routes.end());
  st.socket->detach(mid, identifier);
  if (!routes.empty())
    return;
  if (auto& actor = link->second.actor) {
    self->send(actor, caf::unsubscribe_atom::value, caf::actor_cast<caf::actor>(self));
    self->demonitor(actor);
  }
  st.streams.erase(link);
}

void forward(bridge_ptr self, const bridge_config& cfg, const actors::stream_event_ptr& ev,
             std::uint64_t tag) {
  auto& st = self->state;
  if (ev->type == stream_event::kind::refresh) {
    if (auto it = st.chat_routes.find(ev->chat_id); it != st.chat_routes.end())
      for (auto& identifier : it->second)
        if (auto sub = st.subs.find(identifier);
            sub != st.subs.end() && sub->second.target.kind != model::model_kind::message)
          emit(self, cfg, identifier, ev);  // not to a message awaiting its stream (SPEC §11)
    return;
  }
  auto link = st.streams.find(ev->message_id);
  if (link == st.streams.end())
    return;
  for (auto& r : link->second.routes)
    if (tag != 0 ? r.tag == tag : r.live)
      emit(self, cfg, r.identifier, ev);
}

}  // namespace actorcable::net

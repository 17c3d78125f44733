#include "actors/provider/openai_provider.hpp"

#include "model/utf8.hpp"

#include "actors/errors.hpp"
#include "common/log.hpp"
#include "actors/provider/anthropic_events.hpp"
#include "actors/provider/openai_events.hpp"
#include "actors/provider/openai_session.hpp"

#include <boost/json.hpp>

namespace actorcable::actors {

openai_state::~openai_state() {
  if (session)
    session->cancel();  // killed or done: the connection closes now
}

namespace {

using self_ptr = caf::stateful_actor<openai_state>*;
using attempt_atom = caf::atom_constant<caf::atom("attempt")>;  // the next attempt of a request
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;

std::atomic<std::int64_t>& counter(actorcable::metrics& m, provider_error kind) {
  switch (kind) {
    case provider_error::connect: return m.provider_errors_connect;
    case provider_error::http: return m.provider_errors_http;
    case provider_error::stream: return m.provider_errors_stream;
    case provider_error::timeout: return m.provider_errors_timeout;
    case provider_error::malformed: return m.provider_errors_malformed;
  }
  return m.provider_errors_stream;
}

void fail(self_ptr self, const openai_config& cfg, provider_error kind, const std::string& reason) {
  if (auto* m = cfg.metrics)
    counter(*m, kind).fetch_add(1, std::memory_order_relaxed);
  log::warn("openai", "answer_failed", {{"reason", reason}, {"kind", to_string(kind)},
                                        {"attempt", self->state.attempt}});
  self->quit(make_error(errc::provider_failed, reason));
}

void start_attempt(self_ptr self, const openai_config& cfg, const http_endpoint& ep,
                   provider_io* io) {
  auto& st = self->state;
  ++st.attempt;
  if (st.session)
    st.session->cancel();
  http_headers headers;
  if (cfg.api == provider_api::anthropic) {
    headers = {{"x-api-key", cfg.api_key}, {"anthropic-version", "2023-06-01"}};
  } else if (!cfg.api_key.empty()) {
    headers = {{"Authorization", "Bearer " + cfg.api_key}};
  }
  st.session = std::make_shared<openai_session>(*io, ep, st.body, std::move(headers),
                                                caf::actor_cast<caf::actor>(self),
                                                cfg.connect_timeout);
  st.session->start();
}

void finish(self_ptr self, actors::job_sink_actor& target) {
  auto& st = self->state;
  self->send(target, actors::job_done_atom::value, st.result);
  self->quit();
}

// What a provider reported of the model and its token counts; a field it did not send stays.
void note_usage(job_result& r, const std::string& model, std::optional<std::int64_t> input,
                std::optional<std::int64_t> output) {
  if (!model.empty())
    r.model_id = model;
  // A count the row's integer column cannot hold is not kept (the final write must not fail).
  if (input && model::fits_int_column(*input))
    r.input_tokens = input;
  if (output && model::fits_int_column(*output))
    r.output_tokens = output;
}

// Sends a part of the answer (text, or reasoning with `reasoning`); from the first one on, a
// failure ends the stream instead of a retry.
void deliver(self_ptr self, const openai_config& cfg, actors::job_sink_actor& target, std::string text,
             bool reasoning = false) {
  auto& st = self->state;
  if (!reasoning && !st.prefill_tail.empty() && !text.empty()) {
    if (text.compare(0, st.prefill_tail.size(), st.prefill_tail) == 0)
      text.erase(0, st.prefill_tail.size());  // the continuation repeats what was stored
    st.prefill_tail.clear();
  }
  if (text.empty())
    return;
  st.delivered = true;
  if (reasoning)
    self->send(target, actors::thinking_atom::value, text);
  else
    self->send(target, actors::chunk_atom::value, text);
  st.last_token = self->clock().now();
  if (!st.idle_armed) {
    st.idle_armed = true;
    self->delayed_send(self, cfg.idle_timeout, deadline_atom::value, std::string("idle"));
  }
}

void on_openai_event(self_ptr self, const openai_config& cfg, actors::job_sink_actor& target, std::string_view data) {
  auto& st = self->state;
  auto ev = parse_openai_event(data);
  switch (ev.type) {
    case openai_event::kind::done:
      finish(self, target);
      return;
    case openai_event::kind::error:
      fail(self, cfg, provider_error::stream, ev.error);
      return;
    case openai_event::kind::malformed:
      fail(self, cfg, provider_error::malformed, ev.error);
      return;
    case openai_event::kind::delta:
      break;
  }
  note_usage(st.result, ev.model, ev.prompt_tokens, ev.completion_tokens);
  st.finished |= ev.finished;
  deliver(self, cfg, target, ev.reasoning, true);  // a delta with both: the reasoning came first
  deliver(self, cfg, target, ev.content);
}

void on_anthropic_event(self_ptr self, const openai_config& cfg, actors::job_sink_actor& target, std::string_view data) {
  auto& st = self->state;
  auto ev = parse_anthropic_event(data);
  switch (ev.type) {
    case anthropic_event::kind::text:
      deliver(self, cfg, target, ev.text);
      return;
    case anthropic_event::kind::usage:
      note_usage(st.result, ev.model, ev.input_tokens, ev.output_tokens);
      return;
    case anthropic_event::kind::stop:
      st.finished = true;
      finish(self, target);
      return;
    case anthropic_event::kind::error:
      fail(self, cfg, provider_error::stream, ev.error);
      return;
    case anthropic_event::kind::malformed:
      fail(self, cfg, provider_error::malformed, ev.error);
      return;
    case anthropic_event::kind::thinking:
      deliver(self, cfg, target, ev.text, true);
      return;
    case anthropic_event::kind::ignored:
      return;
  }
}

}  // namespace

std::vector<model::chat_turn> request_turns(const actors::job_spec& spec, bool anthropic,
                                            std::string& tail) {
  auto turns = spec.history;
  if (turns.empty() || turns.back().content != spec.question)
    turns.push_back({"user", spec.question});
  tail.clear();
  if (!spec.resumed || spec.resumed->text.empty())
    return turns;
  auto prefill = spec.resumed->text;
  if (anthropic) {
    auto keep = prefill.find_last_not_of(" \t\r\n") + 1;
    tail = prefill.substr(keep);
    prefill.erase(keep);
  }
  if (!prefill.empty())
    turns.push_back({"assistant", std::move(prefill)});
  else
    tail.clear();  // nothing but white space was stored: no prefill
  return turns;
}

std::string openai_messages_json(const std::vector<model::chat_turn>& turns) {
  boost::json::array out;
  for (auto& t : turns) {
    boost::json::object m;
    m["role"] = t.role == "assistant" || t.role == "system" ? t.role : std::string("user");
    m["content"] = t.content;
    out.push_back(std::move(m));
  }
  return boost::json::serialize(out);
}

caf::behavior openai_provider(self_ptr self, actors::job_sink_actor target, actors::job_spec spec,
                              openai_config cfg, provider_io* io) {
  bool anthropic = cfg.api == provider_api::anthropic;
  auto ep = api_endpoint(cfg.base_url, anthropic ? "/messages" : "/chat/completions");
  if (!ep) {
    fail(self, cfg, provider_error::connect, "the provider's base URL is not an http(s) URL: " + cfg.base_url);
    return {};
  }
  auto turns = request_turns(spec, anthropic, self->state.prefill_tail);
  self->state.body = anthropic ? anthropic_request_body(cfg.model, cfg.max_tokens, turns)
                               : openai_request_body(cfg.model, openai_messages_json(turns));
  self->state.result.model_id = cfg.model;
  start_attempt(self, cfg, *ep, io);
  self->delayed_send(self, cfg.first_token_timeout, deadline_atom::value, std::string("first"));
  self->delayed_send(self, cfg.total_timeout, deadline_atom::value, std::string("total"));
  return {
    [=](provider_data_atom, const std::string& data) mutable {
      if (cfg.api == provider_api::anthropic)
        on_anthropic_event(self, cfg, target, data);
      else
        on_openai_event(self, cfg, target, data);
    },
    [=](provider_eof_atom) mutable {
      if (self->state.finished)
        finish(self, target);
      else
        fail(self, cfg, provider_error::stream, cfg.api == provider_api::anthropic
                                                  ? "the provider closed the stream before message_stop"
                                                  : "the provider closed the stream before [DONE]");
    },
    [=](provider_failed_atom, const provider_failure& f) {
      auto& st = self->state;
      const auto& reason = f.reason;
      if (st.delivered || !f.retryable || st.attempt > cfg.max_retries) {
        // Before the first token nothing was received: a broken stream counts as a failed
        // connection.
        auto kind = f.kind == provider_error::stream && !st.delivered ? provider_error::connect : f.kind;
        fail(self, cfg, kind, reason);
        return;
      }
      // Nothing was delivered yet, so a new request cannot duplicate text.
      auto backoff = std::min(cfg.backoff_max, cfg.backoff_initial * (1 << (st.attempt - 1)));
      auto wait = std::max<std::chrono::milliseconds>(backoff, std::chrono::milliseconds(f.retry_ms));
      log::info("openai", "retrying", {{"reason", reason}, {"attempt", st.attempt},
                                       {"wait_ms", static_cast<std::int64_t>(wait.count())}});
      self->delayed_send(self, std::min(wait, cfg.backoff_max * 4), attempt_atom::value);
    },
    [=](attempt_atom) { start_attempt(self, cfg, *ep, io); },
    [=](deadline_atom, const std::string& which) {
      auto& st = self->state;
      if (which == "first" && !st.delivered) {
        fail(self, cfg, provider_error::timeout, "no first token within " + std::to_string(cfg.first_token_timeout.count()) + " ms");
      } else if (which == "idle") {
        auto quiet = self->clock().now() - st.last_token;
        st.idle_armed = quiet < cfg.idle_timeout;
        if (!st.idle_armed)
          fail(self, cfg, provider_error::timeout, "no token for " + std::to_string(cfg.idle_timeout.count()) + " ms");
        else
          self->delayed_send(self, cfg.idle_timeout - quiet, deadline_atom::value, std::string("idle"));
      } else if (which == "total")
        fail(self, cfg, provider_error::timeout, "the answer took longer than " + std::to_string(cfg.total_timeout.count()) + " ms");
    },
  };
}

}  // namespace actorcable::actors

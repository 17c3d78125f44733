#include "actors/provider/launcher.hpp"

#include "actors/errors.hpp"
#include "common/log.hpp"

#include <algorithm>

namespace actorcable::actors {

const named_provider* provider_config::serving(const std::string& model) const {
  for (auto& p : providers)
    if (std::find(p.models.begin(), p.models.end(), model) != p.models.end())
      return &p;
  return nullptr;
}

bool provider_config::any_http() const {
  return std::any_of(providers.begin(), providers.end(),
                     [](const named_provider& p) { return p.type != "scripted"; });
}

named_provider single_provider(const provider_config& cfg) {
  named_provider one{cfg.name, cfg.name, cfg.openai, {}};
  one.models = {cfg.name == "scripted" ? std::string("scripted") : cfg.openai.model};
  return one;
}

namespace {

// Prometheus labels of an attempt; names and model ids come from the configuration.
std::string labels(const std::string& provider, const std::string& model) {
  auto quoted = [](const std::string& s) {
    std::string out;
    for (char c : s)
      if (c != '"' && c != '\\' && c != '\n')
        out += c;
    return out;
  };
  return "provider=\"" + quoted(provider) + "\",model=\"" + quoted(model) + "\"";
}

caf::actor spawn_provider(caf::local_actor* parent, const job_sink_actor& target,
                          const provider_config& cfg, const named_provider& p,
                          const std::string& model, const job_spec& spec, provider_io* io) {
  if (cfg.openai.metrics)
    cfg.openai.metrics->provider_attempts.add(labels(p.name, model));
  if (p.type == "scripted") {
    auto plan = parse_scripted_plan(spec.question, cfg.scripted);
    plan.model = model;
    if (auto& r = spec.resumed) {
      plan.resume_text_bytes = r->text.size();
      plan.resume_thinking_bytes = r->thinking.size();
      plan.resume_after_tool = r->tool_calls != "[]" && !r->tool_calls.empty();
    }
    return parent->spawn<caf::linked>(scripted_provider, target, std::move(plan));
  }
  auto http = p.http;
  http.model = model;
  http.api = p.type == "anthropic" ? provider_api::anthropic : provider_api::openai;
  return parent->spawn<caf::linked>(openai_provider, target, spec, std::move(http), io);
}

struct failover_state {
  static inline const char* name = "failover_job";
  std::vector<std::string> models;  // still to try, in order
  caf::actor current;
  std::string current_model;
  bool delivered = false;  // a part reached the message actor: no failover from here on
};

// Stands between the providers and the message actor while there is a model to fail over to:
// it forwards every part (so it knows whether one was accepted) and, when a provider fails
// before its first part, starts the next model's. It ends as the last provider ended.
caf::behavior failover_job(caf::stateful_actor<failover_state>* self, job_sink_actor target,
                           provider_config cfg, job_spec spec, std::vector<std::string> models,
                           provider_io* io) {
  auto start_next = [=] {
    auto& st = self->state;
    while (!st.models.empty()) {
      auto model = st.models.front();
      st.models.erase(st.models.begin());
      if (auto* p = cfg.serving(model)) {
        log::info("provider", "attempt", {{"message_id", spec.message_id}, {"provider", p->name},
                                          {"model", model}});
        st.current_model = model;
        st.current = spawn_provider(self, caf::actor_cast<job_sink_actor>(self), cfg, *p, model, spec, io);
        self->monitor(st.current);
        return true;
      }
    }
    return false;
  };
  self->state.models = std::move(models);
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (msg.source == target.address())
      self->quit(msg.reason);  // the message actor ended the stream; a provider's end comes as down
  });
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source != st.current)
      return;
    if (msg.reason && !st.delivered && !st.models.empty()) {
      log::warn("provider", "failover", {{"message_id", spec.message_id},
                                         {"error", caf::to_string(msg.reason)},
                                         {"next_model", st.models.front()}});
      if (cfg.openai.metrics)
        if (auto* failed = cfg.serving(st.current_model))
          cfg.openai.metrics->provider_failovers.add(labels(failed->name, st.current_model));
      if (start_next())
        return;
    }
    self->quit(msg.reason);
  });
  if (!start_next())
    self->quit(make_error(errc::no_provider, "no provider serves the chat's models"));
  auto part = [=] { self->state.delivered = true; };
  return {
    [=](chunk_atom a, std::string& text) { part(); self->send(target, a, std::move(text)); },
    [=](thinking_atom a, std::string& text) { part(); self->send(target, a, std::move(text)); },
    [=](tool_atom a, tool_call& call) { part(); self->send(target, a, std::move(call)); },
    [=](job_done_atom a, job_result& r) { self->send(target, a, std::move(r)); },
  };
}

}  // namespace

job_launcher make_job_launcher(provider_config cfg, provider_io* io) {
  if (cfg.providers.empty()) {  // the old single provider, as tests and embedders build it
    cfg.providers.push_back(single_provider(cfg));
    cfg.default_model = cfg.providers.front().models.front();
  }
  return [cfg, io](caf::local_actor* parent, const job_spec& spec) -> caf::actor {
    auto target = caf::actor_cast<job_sink_actor>(parent);
    auto model = spec.model_id.empty() || !cfg.serving(spec.model_id) ? cfg.default_model
                                                                       : spec.model_id;
    std::vector<std::string> chain{model};
    for (auto& m : cfg.failover)
      if (std::find(chain.begin(), chain.end(), m) == chain.end())
        chain.push_back(m);
    auto* p = cfg.serving(model);
    if (chain.size() == 1 && p)
      return spawn_provider(parent, target, cfg, *p, model, spec, io);
    return parent->spawn<caf::linked>(failover_job, target, cfg, spec, std::move(chain), io);
  };
}

}  // namespace actorcable::actors

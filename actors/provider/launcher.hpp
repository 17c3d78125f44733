// The AI response job: the provider actor that answers one message, chosen by its chat's model
// (SPEC §7, §10). It runs as a child of the message actor, which monitors it (supervision).
#pragma once
#include "actors/protocol.hpp"
#include "actors/provider/openai_provider.hpp"
#include "actors/provider/scripted_provider.hpp"

namespace actorcable::actors {

// One configured provider: `[provider.NAME]`, or the single provider of the old settings.
struct named_provider {
  std::string name;
  std::string type = "scripted";  // scripted | openai | anthropic
  openai_config http;             // openai and anthropic (http.model is set per request)
  std::vector<std::string> models;
};

struct provider_config {
  // The old single-provider name (provider.name / AI_PROVIDER); with [provider.NAME] sections,
  // "named".
  std::string name = "scripted";
  scripted_config scripted;
  openai_config openai;  // the old single provider's settings, and the timeouts of every one
  std::vector<named_provider> providers;
  std::string default_model = "scripted";
  std::vector<std::string> failover;  // models tried in turn when one fails before its first part

  // The provider that serves `model` (null: none).
  const named_provider* serving(const std::string& model) const;
  bool any_http() const;
};

// The one provider of the old settings (`name` with `openai`), serving its one model.
named_provider single_provider(const provider_config& cfg);

// `io` runs the HTTP clients of network providers; it must outlive every job (may be null for
// the scripted provider). A job answers with `spec.model_id` (else the default model); with a
// failover list, a provider that fails before its first part hands over to the next model.
job_launcher make_job_launcher(provider_config cfg, provider_io* io);

}  // namespace actorcable::actors

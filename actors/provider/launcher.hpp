// The AI response job: the provider actor that answers one message, chosen by configuration
// (SPEC §7). It runs as a child of the message actor, which monitors it (supervision).
#pragma once
#include "actors/protocol.hpp"
#include "actors/provider/openai_provider.hpp"
#include "actors/provider/scripted_provider.hpp"

namespace actorcable::actors {

struct provider_config {
  std::string name = "scripted";  // scripted | openai | anthropic (openai with provider_api::anthropic)
  scripted_config scripted;
  openai_config openai;
};

// `io` runs the HTTP clients of network providers; it must outlive every job (may be null for
// the scripted provider).
job_launcher make_job_launcher(provider_config cfg, provider_io* io);

}  // namespace actorcable::actors

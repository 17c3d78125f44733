// The AI response job: the provider actor that answers one message, chosen by configuration.
// It runs as a child of the message actor, which monitors it (supervision).
#pragma once
#include "actors/protocol.hpp"
#include "actors/provider/scripted_provider.hpp"

namespace actorcable::actors {

struct provider_config {
  std::string name = "scripted";  // scripted | openai
  scripted_config scripted;
};

job_launcher make_job_launcher(provider_config cfg);

}  // namespace actorcable::actors

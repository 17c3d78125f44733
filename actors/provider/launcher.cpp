#include "actors/provider/launcher.hpp"

namespace actorcable::actors {

job_launcher make_job_launcher(provider_config cfg, provider_io* io) {
  if (cfg.name == "openai" || cfg.name == "anthropic")
    return make_openai_launcher(cfg.openai, io);
  return [cfg](caf::event_based_actor* parent, const job_spec& spec) -> caf::actor {
    auto target = caf::actor_cast<caf::actor>(parent);
    return parent->spawn<caf::linked>(scripted_provider, target,
                                      parse_scripted_plan(spec.question, cfg.scripted));
  };
}

}  // namespace actorcable::actors

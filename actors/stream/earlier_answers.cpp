#include "actors/stream/earlier_answers.hpp"

#include <algorithm>
#include <memory>

namespace actorcable::actors {

void after_earlier_answers(message_actor_actor::pointer self, directory_actor directory, job_spec spec,
                           caf::timespan cancel_wait, std::function<void(job_spec&)> then) {
  if (spec.busy.empty() || !directory) {
    auto& h = spec.history;
    h.erase(std::remove_if(h.begin(), h.end(), [](auto& t) { return t.content.empty(); }), h.end());
    then(spec);
    return;
  }
  auto id = spec.busy.front();
  spec.busy.erase(spec.busy.begin());
  bool cancel = spec.cancel_busy;
  auto timeout = cancel ? caf::duration{cancel_wait} : caf::duration{caf::infinite};
  auto waiting = std::make_shared<job_spec>(std::move(spec));
  auto next = [=] { after_earlier_answers(self, directory, std::move(*waiting), cancel_wait, then); };
  self->request(directory, timeout, await_end_atom::value, id, cancel)
    .then(
      [=](std::string& text) {
        for (auto& turn : waiting->history)
          if (turn.message_id == id)
            turn.content = std::move(text);
        next();
      },
      [=](caf::error&) { next(); });
}

}  // namespace actorcable::actors

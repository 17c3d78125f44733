// A question asked while its chat's answers still stream (SPEC §9 on_busy): its answer starts
// once they have ended.
#pragma once
#include "actors/stream/message_actor.hpp"

#include <functional>

namespace actorcable::actors {

// Asks `directory` for each answer in `spec.busy`, oldest first, to end (cancelling it first
// with `spec.cancel_busy`, waiting at most `cancel_wait`; a queued question waits as long as
// they stream) and puts each one's final text in its turn of `spec.history`; an answer no node
// streams any more is not waited for. Then calls `then` with the spec, its empty turns dropped.
void after_earlier_answers(message_actor_actor::pointer self, directory_actor directory, job_spec spec,
                           caf::timespan cancel_wait, std::function<void(job_spec&)> then);

}  // namespace actorcable::actors

#include "app/memory_trim.hpp"

#include <malloc.h>

namespace actorcable::app {

void configure_allocator() {
  mallopt(M_MMAP_THRESHOLD, 1024 * 1024);  // fixed: no dynamic raise
}

caf::behavior memory_trimmer(caf::event_based_actor* self, metrics* stats, caf::timespan every) {
  // What the node did (chunks, frames, connections, actors) as of the last trim: unchanged means
  // nothing was freed since.
  auto activity = [stats] {
    return stats->chunks_total.load(std::memory_order_relaxed)
           + stats->broadcasts_total.load(std::memory_order_relaxed)
           + stats->connections.load(std::memory_order_relaxed)
           + stats->commands_total.load(std::memory_order_relaxed)
           + stats->message_actors.load(std::memory_order_relaxed);
  };
  auto last = std::make_shared<std::int64_t>(-1);
  self->delayed_send(self, every, caf::tick_atom::value);
  return {
    [=](caf::tick_atom) {
      self->delayed_send(self, every, caf::tick_atom::value);
      auto now = activity();
      if (stats->active_streams.load(std::memory_order_relaxed) > 0 || now == *last)
        return;
      *last = now;
      malloc_trim(0);
      stats->memory_trims_total.fetch_add(1, std::memory_order_relaxed);
    },
  };
}

}  // namespace actorcable::app

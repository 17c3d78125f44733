// Hands freed memory back to the system while the node is idle. glibc keeps the pages its
// arenas freed (after a load of large answers and many connections RSS stayed near 1 GB), and a
// trim costs the time to walk the heap under the arena locks, so it runs only when no answer
// streams and something happened since the last one.
#pragma once
#include "common/metrics.hpp"

#include <caf/all.hpp>

namespace actorcable::app {

// Large blocks (answers' texts, statements, frames of 1 MiB and more) are mapped on their own and
// unmapped when freed: glibc otherwise raises its mmap threshold after the first such free and
// serves the next ones from its arenas, where they fragment. Called once at start.
void configure_allocator();

// Checks every `every`; counted in actorcable_memory_trims_total.
caf::behavior memory_trimmer(caf::event_based_actor* self, metrics* stats, caf::timespan every);

}  // namespace actorcable::app

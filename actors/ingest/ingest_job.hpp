// An outside producer as a stream's job (SPEC §11). The HTTP request that carries its NDJSON
// body is represented by this actor: the message actor links to and monitors it like any
// provider, so every way the producer can fail ends the stream through the same supervision.
#pragma once
#include "actors/ingest/ingest_part.hpp"
#include "actors/protocol.hpp"

#include <memory>

namespace actorcable::actors {

// session -> job: (ingest_parts_atom, vector<ingest_part>) the next lines, in order;
// (ingest_lost_atom, string reason) the producer is gone (or sent what is not a part).
using ingest_parts_atom = caf::atom_constant<caf::atom("ing_parts")>;
using ingest_lost_atom = caf::atom_constant<caf::atom("ing_lost")>;
// session -> job: (ingest_alive_atom) a blank line: the producer is there (resets the idle deadline)
using ingest_alive_atom = caf::atom_constant<caf::atom("ing_alive")>;

// What the producer's HTTP side hears from its job. Called on the job's thread.
class ingest_sink {
public:
  virtual ~ingest_sink() = default;
  // The message actor has taken every part handed over so far: the next lines may be read.
  virtual void taken() = 0;
  // The job is gone: the stream has ended or is ending (by the producer, a stop, a timeout).
  virtual void ended() = 0;
};

struct ingest_job_state {
  static inline const char* name = "ingest_job";
  caf::actor stream;                 // the message actor, once it started this job
  std::vector<ingest_part> waiting;  // parts that came before that
  job_result usage;                  // every usage part so far, merged
};

// Reacts to: (start_atom, actor message actor) from the launcher, (ingest_parts_atom, parts),
// (ingest_lost_atom, reason). An `end` part ends the job: normally for "complete", with the
// producer's reason for "error"; a lost producer ends it with the reason given.
caf::behavior ingest_job(caf::stateful_actor<ingest_job_state>* self, std::shared_ptr<ingest_sink> sink);

}  // namespace actorcable::actors

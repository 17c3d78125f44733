// The offline provider (SPEC §7): a deterministic answer at a set pace, steered by markers in the
// user's message: [[chunks:N]] [[rate:N]] [[delay:MS]] [[fail-after:N]] [[stall]], and the parts
// before the text (SPEC §9): [[think:N]] N reasoning chunks, [[tool:NAME]] one tool call.
#pragma once
#include "actors/protocol.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace actorcable::actors {

struct scripted_config {
  int default_chunks = 40;
  double default_rate = 20.0;  // chunks per second
  int stall_after = 2;         // [[stall]] goes silent after this many chunks
};

struct scripted_plan {
  int chunks = 40;
  double rate = 20.0;
  int delay_ms = 0;
  std::optional<int> fail_after;
  std::optional<int> stall_after;
  int thinking_chunks = 0;  // [[think:N]]
  std::string tool;         // [[tool:NAME]]: reported running, then done, before the text
  bool bench = false;  // [[bench]]: each chunk is "<seq>|<emit unix ns>|" padded to 40 bytes
  std::string model = "scripted";  // the model id it answers as
  // A continued answer (SPEC §12) resumes where the stored one stopped: this much of its text
  // and reasoning is not sent again (a chunk cut by it is sent from there), nor its tool call.
  std::size_t resume_text_bytes = 0;
  std::size_t resume_thinking_bytes = 0;
  bool resume_after_tool = false;
};

scripted_plan parse_scripted_plan(std::string_view question, const scripted_config& cfg);

// The i-th chunk (0-based) of every scripted answer.
std::string scripted_chunk(int i);

// The i-th reasoning chunk (0-based) of a scripted answer.
std::string scripted_thinking(int i);

// A benchmark chunk: sequence number and emit time (unix ns), for the load generator's latency.
std::string bench_chunk(int i);

struct scripted_state {
  static inline const char* name = "scripted_provider";
  int sent = 0;     // text chunks
  int prelude = 0;  // reasoning chunks and tool reports sent before the text
};

// Sends its reasoning (thinking_atom, text)... and tool reports (tool_atom, tool_call), then
// (chunk_atom, text)... then (job_done_atom, job_result) to `target` and exits normally;
// throws after fail_after chunks; goes silent (without exiting) after stall_after chunks.
caf::behavior scripted_provider(caf::stateful_actor<scripted_state>* self, job_sink_actor target,
                                scripted_plan plan);

}  // namespace actorcable::actors

// The Anthropic Messages API's stream (SPEC §10): each SSE event's `data` is a JSON object whose
// `type` names it (message_start, content_block_start/delta/stop, message_delta, message_stop,
// ping, error). Pure functions: the provider actor turns these into parts.
#pragma once
#include "model/entities.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actorcable::actors {

struct anthropic_event {
  enum class kind {
    text,       // a text_delta: `text`
    thinking,   // a thinking_delta: `text` is reasoning
    usage,      // message_start (model, input and output tokens) or message_delta (output
                // tokens, stop_reason)
    stop,       // message_stop: the answer is complete
    error,      // an `error` event: `error`
    ignored,    // ping, block start/stop, signature and tool-input deltas, event types added later
    malformed,  // not what the API sends: `error`
  };
  kind type = kind::ignored;
  std::string text;
  std::string model;
  std::optional<std::int64_t> input_tokens;
  std::optional<std::int64_t> output_tokens;
  std::string stop_reason;
  std::string error;
};

anthropic_event parse_anthropic_event(std::string_view data);

// The request body: model, max_tokens, stream, the system turns joined into `system`, the
// others as user/assistant messages (leading assistant turns dropped: the API starts with the
// user). A trailing assistant turn is a prefill the answer continues.
std::string anthropic_request_body(std::string_view model, std::int64_t max_tokens,
                                   const std::vector<model::chat_turn>& turns);

}  // namespace actorcable::actors

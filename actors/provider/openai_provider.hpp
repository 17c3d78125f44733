// The HTTP providers: `openai` (SPEC §7) streams a chat completion from any OpenAI-compatible
// server, `anthropic` (SPEC §10) a message from Anthropic's Messages API; either sends its text
// deltas to the message actor as chunks. It is the job actor: however it ends
// (done, error, timeout, killed) the message actor sees it and ends the stream.
#pragma once
#include "actors/protocol.hpp"
#include "common/metrics.hpp"
#include "actors/provider/provider_io.hpp"
#include "actors/provider/sse_parser.hpp"

#include <chrono>
#include <memory>

namespace actorcable::actors {

class openai_session;

// Which HTTP API a provider speaks: OpenAI-compatible chat completions (SPEC §7) or Anthropic's
// Messages API (SPEC §10). Retries, deadlines and supervision are the same for both.
enum class provider_api { openai, anthropic };

struct openai_config {
  provider_api api = provider_api::openai;
  std::string base_url = "https://api.openai.com";
  std::string api_key;
  std::string model = "gpt-4o-mini";
  std::int64_t max_tokens = 4096;  // anthropic: required by the API
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds first_token_timeout{30000};
  std::chrono::milliseconds idle_timeout{30000};    // between tokens
  std::chrono::milliseconds total_timeout{600000};  // the whole answer
  int max_retries = 3;                              // before the first token only
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{8000};
  actorcable::metrics* metrics = nullptr;
};

struct openai_state {
  static inline const char* name = "openai_provider";
  std::shared_ptr<openai_session> session;
  std::string body;
  int attempt = 0;
  bool delivered = false;  // a token reached the message actor: no retry from here on
  bool finished = false;   // the provider said the answer is complete (finish_reason, message_stop)
  // The idle deadline: one timer at a time, checked against the last token when it fires (a
  // timer per token would keep idle_timeout's worth of them pending in CAF's clock).
  caf::actor_clock::time_point last_token{};
  bool idle_armed = false;
  actors::job_result result;
  // Anthropic: the white space cut off a continued answer's prefill, taken off the start of the
  // first text that follows (SPEC §12).
  std::string prefill_tail;
  ~openai_state();
};

// The turns of a request: the chat's, oldest first, the question last; for a continued answer
// (SPEC §12) its stored text as a trailing assistant message (prefill), which the model goes on
// from. Anthropic refuses a prefill that ends in white space: for it that tail is cut off and
// returned in `tail`.
std::vector<model::chat_turn> request_turns(const actors::job_spec& spec, bool anthropic,
                                            std::string& tail);

// The messages array for a request: the chat's turns, oldest first (the question last).
std::string openai_messages_json(const std::vector<model::chat_turn>& turns);

caf::behavior openai_provider(caf::stateful_actor<openai_state>* self, actors::job_sink_actor target,
                              actors::job_spec spec, openai_config cfg, provider_io* io);

}  // namespace actorcable::actors

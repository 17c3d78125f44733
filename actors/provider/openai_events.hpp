// The payloads of an OpenAI-compatible chat completion stream (`data:` of each event).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace actorcable::actors {

struct openai_event {
  enum class kind { delta, done, error, malformed };
  kind type = kind::delta;
  std::string content;    // delta: choices[0].delta.content (may be empty)
  std::string reasoning;  // delta: reasoning_content (DeepSeek, vLLM, llama.cpp) or reasoning (OpenRouter)
  std::string model;
  std::optional<std::int64_t> prompt_tokens;
  std::optional<std::int64_t> completion_tokens;
  std::string error;  // error / malformed: what went wrong
  bool finished = false;  // choices[0].finish_reason was set
};

openai_event parse_openai_event(std::string_view data);

// The request body: model, messages (role/content pairs as JSON), stream with usage.
std::string openai_request_body(std::string_view model, std::string_view messages_json);

}  // namespace actorcable::actors

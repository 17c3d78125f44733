// Plain rows of the domain (SPEC §2). No behaviour, no I/O.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace actorcable::model {

struct account {
  std::int64_t id = 0;
  std::string name;
};

struct user {
  std::int64_t id = 0;
  std::string email_address;
};

struct membership {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::int64_t user_id = 0;
  std::string role;
  bool confirmed = false;
};

struct chat {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::string title;
  std::string model_id;
  std::string created_at;
  std::string updated_at;
};

struct message {
  std::int64_t id = 0;
  std::int64_t chat_id = 0;
  std::optional<std::int64_t> user_id;
  std::string role;  // "user" | "assistant" | "system"
  std::string content;
  std::string model_id;
  std::optional<std::int64_t> input_tokens;
  std::optional<std::int64_t> output_tokens;
  bool streaming = false;
  std::string stream_status;  // "" while streaming or never streamed; else complete|error|cancelled|interrupted
  std::string stream_error;
  std::string created_at;
  std::string updated_at;
  std::string thinking_text;  // reasoning (SPEC §9)
  std::string tool_status;    // the summary of the tool call running now; "": none
  std::string tool_calls;     // JSON array of {call_id, name, status, summary}
};

// One earlier turn of a conversation, as a provider sees it.
struct chat_turn {
  std::string role;
  std::string content;
  std::int64_t message_id = 0;
};

}  // namespace actorcable::model

// One line of an outside producer's NDJSON stream (SPEC §11): a part of the answer, or its end.
#pragma once
#include "actors/protocol.hpp"

#include <string>
#include <string_view>
#include <variant>

namespace actorcable::actors {

struct ingest_part {
  enum class kind : std::uint8_t { text, thinking, tool, usage, end };
  kind type = kind::text;
  std::string text;     // text, thinking
  tool_call call;       // tool
  job_result usage;     // usage
  bool failed = false;  // end: status "error" (else "complete")
  std::string error;    // end: the producer's reason, when failed
};

// The part a line spells, or why it is not one (for "invalid part at line N: <why>").
std::variant<ingest_part, std::string> parse_ingest_part(std::string_view line);

}  // namespace actorcable::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<actorcable::actors::ingest_part>)

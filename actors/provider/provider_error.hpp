// Why a provider's answer failed, as a value: counted by kind in the metrics
// (actorcable_provider_errors_total{kind=...}), the reason text for people and the row.
#pragma once
#include <caf/allowed_unsafe_message_type.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace actorcable::actors {

enum class provider_error : std::uint8_t { connect, http, stream, timeout, malformed };

constexpr std::string_view to_string(provider_error e) {
  switch (e) {
    case provider_error::connect: return "connect";
    case provider_error::http: return "http";
    case provider_error::stream: return "stream";
    case provider_error::timeout: return "timeout";
    case provider_error::malformed: return "malformed";
  }
  return "stream";
}

// What an HTTP session reports when its request failed.
struct provider_failure {
  provider_error kind = provider_error::connect;
  std::string reason;
  bool retryable = false;      // nothing was received: another attempt cannot duplicate text
  std::int64_t retry_ms = 0;   // the provider's Retry-After, if it sent one
};

}  // namespace actorcable::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorcable::actors::provider_failure)

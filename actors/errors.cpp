#include "actors/errors.hpp"

#include <caf/message.hpp>

namespace actorcable::actors {

std::string_view to_string(errc code) {
  switch (code) {
    case errc::no_stream: return "no_stream";
    case errc::taking_over: return "taking_over";
    case errc::not_streaming: return "not_streaming";
    case errc::database_unreachable: return "database_unreachable";
    case errc::no_provider: return "no_provider";
    case errc::provider_failed: return "provider_failed";
    case errc::producer_failed: return "producer_failed";
    case errc::job_failed: return "job_failed";
    case errc::not_member: return "not_member";
  }
  return "unknown";
}

caf::error make_error(errc code, std::string words) {
  return caf::error{static_cast<std::uint8_t>(code), error_category,
                    caf::make_message(std::move(words))};
}

std::optional<errc> error_code(const caf::error& e) {
  if (!e || e.category() != error_category)
    return std::nullopt;
  return static_cast<errc>(e.code());
}

std::string error_words(const caf::error& e) {
  auto& ctx = e.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return caf::to_string(e);
}

void add_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(error_category,
                         [](std::uint8_t code, caf::atom_value, const caf::message& ctx) {
                           std::string out = "actorcable: ";
                           out += to_string(static_cast<errc>(code));
                           if (ctx.match_elements<std::string>())
                             out += " (" + ctx.get_as<std::string>(0) + ")";
                           return out;
                         });
}

}  // namespace actorcable::actors

// Errors as values: one code per way an actor's request or job fails, in CAF's error category
// `actorcable`, with the words for people (and for the row's `error`) as the error's context.
// Holders branch on the code (error_code); the words are what the wire and the row show.
#pragma once
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace actorcable::actors {

enum class errc : std::uint8_t {
  no_stream = 1,         // no actor streams the message (here, or on any node asked)
  taking_over,           // the answer's node was lost and another takes it over (SPEC §12)
  not_streaming,         // the row does not exist or no longer streams
  database_unreachable,  // the request needed the database and it did not answer
  no_provider,           // no provider serves the chat's models (SPEC §10)
  provider_failed,       // the provider's request failed (its kind is counted and logged)
  producer_failed,       // an outside producer reported an error or was lost (SPEC §11)
  job_failed,            // a job threw
  not_member,            // a node without a live row in cluster_nodes asked to join (SPEC §17)
};

std::string_view to_string(errc code);

constexpr caf::atom_value error_category = caf::atom("actorcable");

caf::error make_error(errc code, std::string words);

// The code of an error of this category; none for CAF's own (a timeout, an actor gone).
std::optional<errc> error_code(const caf::error& e);

// The words of an error for people and the row: what it was made with, else CAF's rendering.
std::string error_words(const caf::error& e);

// Renders this category's errors in logs (caf::to_string) as `actorcable: <code> (<words>)`.
void add_error_category(caf::actor_system_config& cfg);

}  // namespace actorcable::actors

// UTF-8 validation: provider text is made valid before it is stored or sent.
#pragma once
#include <string>
#include <string_view>

namespace actorcable::model {

// Returns `in` with every invalid sequence replaced by U+FFFD (and NUL bytes dropped, which
// PostgreSQL text cannot hold).
std::string sanitize_utf8(std::string_view in);

// Whether `in` is well-formed UTF-8 (NUL included).
bool valid_utf8(std::string_view in);

}  // namespace actorcable::model

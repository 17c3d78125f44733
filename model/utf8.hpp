// UTF-8 validation: provider text is made valid before it is stored or sent.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace actorcable::model {

// Returns `in` with every invalid sequence replaced by U+FFFD (and NUL bytes dropped, which
// PostgreSQL text cannot hold).
std::string sanitize_utf8(std::string_view in);

// Whether `in` is well-formed UTF-8 (NUL included).
bool valid_utf8(std::string_view in);

// Characters (code points) of well-formed UTF-8 `in`.
std::size_t utf8_length(std::string_view in);

// PostgreSQL's integer columns (token counts): a count outside 0..2^31-1 cannot be stored.
inline bool fits_int_column(std::int64_t v) { return v >= 0 && v <= 2147483647; }

}  // namespace actorcable::model

// Reading an integer from untrusted JSON: int64, uint64 within range, or a finite double within
// range (converting one outside it would be undefined behaviour). Anything else: nullopt.
#pragma once
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace actorcable {

inline std::optional<std::int64_t> json_int64(const boost::json::value& v) {
  if (v.is_int64())
    return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.as_uint64());
  if (v.is_double() && v.as_double() >= -9.2e18 && v.as_double() <= 9.2e18)
    return static_cast<std::int64_t>(v.as_double());
  return std::nullopt;
}

inline std::optional<std::int64_t> json_int64(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? std::nullopt : json_int64(it->value());
}

}  // namespace actorcable

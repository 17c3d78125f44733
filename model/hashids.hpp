// Hashids for one non-negative integer, byte-compatible with the `hashids` libraries (JS, Ruby).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace actorcable::model {

class hashids {
public:
  static constexpr std::string_view default_alphabet =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890";

  // Throws std::invalid_argument for an alphabet of fewer than 16 unique characters.
  hashids(std::string salt, std::size_t min_length,
          std::string_view alphabet = default_alphabet);

  std::string encode(std::uint64_t number) const;

  // Any input that is not exactly what encode() produces for one number gives nullopt.
  std::optional<std::uint64_t> decode(std::string_view id) const;

private:
  std::string salt_;
  std::size_t min_length_;
  std::string alphabet_;
  std::string seps_;
  std::string guards_;
};

}  // namespace actorcable::model

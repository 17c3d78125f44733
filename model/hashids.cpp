// The Hashids algorithm as the reference JS implementation (hashids 2.x) defines it.
#include "model/hashids.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace actorcable::model {
namespace {

constexpr std::string_view default_seps = "cfhistuCFHISTU";
constexpr double sep_div = 3.5;
constexpr double guard_div = 12.0;

// Consistent shuffle keyed by `salt`; only the first `alphabet.size() - 1` salt characters matter.
std::string shuffle(std::string alphabet, std::string_view salt) {
  if (salt.empty())
    return alphabet;
  std::uint64_t p = 0;
  for (std::size_t i = alphabet.size() - 1, v = 0; i > 0; --i, ++v) {
    v %= salt.size();
    auto integer = static_cast<unsigned char>(salt[v]);
    p += integer;
    auto j = (integer + v + p) % i;
    std::swap(alphabet[i], alphabet[j]);
  }
  return alphabet;
}

std::string to_alphabet(std::uint64_t value, std::string_view alphabet) {
  std::string out;
  do {
    out.insert(out.begin(), alphabet[value % alphabet.size()]);
    value /= alphabet.size();
  } while (value > 0);
  return out;
}

std::optional<std::uint64_t> from_alphabet(std::string_view input, std::string_view alphabet) {
  std::uint64_t value = 0;
  for (char c : input) {
    auto index = alphabet.find(c);
    if (index == std::string_view::npos)
      return std::nullopt;
    if (value > (UINT64_MAX - index) / alphabet.size())
      return std::nullopt;
    value = value * alphabet.size() + index;
  }
  return value;
}

bool contains(std::string_view set, char c) {
  return set.find(c) != std::string_view::npos;
}

}  // namespace

hashids::hashids(std::string salt, std::size_t min_length, std::string_view alphabet)
  : salt_(std::move(salt)), min_length_(min_length) {
  for (char c : alphabet)
    if (!contains(alphabet_, c))
      alphabet_.push_back(c);
  if (alphabet_.size() < 16)
    throw std::invalid_argument("hashids alphabet needs at least 16 unique characters");
  for (char c : default_seps)
    if (contains(alphabet_, c))
      seps_.push_back(c);
  alphabet_.erase(std::remove_if(alphabet_.begin(), alphabet_.end(),
                                 [&](char c) { return contains(seps_, c); }),
                  alphabet_.end());
  seps_ = shuffle(seps_, salt_);
  if (seps_.empty() || static_cast<double>(alphabet_.size()) / seps_.size() > sep_div) {
    auto seps_length = static_cast<std::size_t>(std::ceil(alphabet_.size() / sep_div));
    if (seps_length == 1)
      ++seps_length;
    if (seps_length > seps_.size()) {
      auto diff = seps_length - seps_.size();
      seps_ += alphabet_.substr(0, diff);
      alphabet_.erase(0, diff);
    } else {
      seps_.resize(seps_length);
    }
  }
  alphabet_ = shuffle(alphabet_, salt_);
  auto guard_count = static_cast<std::size_t>(std::ceil(alphabet_.size() / guard_div));
  if (alphabet_.size() < 3) {
    guards_ = seps_.substr(0, guard_count);
    seps_.erase(0, guard_count);
  } else {
    guards_ = alphabet_.substr(0, guard_count);
    alphabet_.erase(0, guard_count);
  }
}

std::string hashids::encode(std::uint64_t number) const {
  auto alphabet = alphabet_;
  auto id_int = number % 100;
  std::string ret(1, alphabet[id_int % alphabet.size()]);
  auto lottery = ret[0];
  std::string buffer = lottery + salt_ + alphabet;
  alphabet = shuffle(alphabet, buffer);
  ret += to_alphabet(number, alphabet);
  if (ret.size() < min_length_) {
    auto prefix = (id_int + static_cast<unsigned char>(ret[0])) % guards_.size();
    ret.insert(ret.begin(), guards_[prefix]);
    if (ret.size() < min_length_) {
      auto suffix = (id_int + static_cast<unsigned char>(ret[2])) % guards_.size();
      ret.push_back(guards_[suffix]);
    }
  }
  auto half = alphabet.size() / 2;
  while (ret.size() < min_length_) {
    alphabet = shuffle(alphabet, alphabet);
    ret = alphabet.substr(half) + ret + alphabet.substr(0, half);
    if (ret.size() > min_length_) {
      auto excess = ret.size() - min_length_;
      ret = ret.substr(excess / 2, min_length_);
    }
  }
  return ret;
}

std::optional<std::uint64_t> hashids::decode(std::string_view id) const {
  if (id.empty() || id.size() > 64)
    return std::nullopt;
  // Split by guards: the payload is the middle part when there are two or three parts.
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= id.size(); ++i) {
    if (i == id.size() || contains(guards_, id[i])) {
      parts.push_back(id.substr(start, i - start));
      start = i + 1;
    }
  }
  auto breakdown = parts[(parts.size() == 2 || parts.size() == 3) ? 1 : 0];
  if (breakdown.empty())
    return std::nullopt;
  auto lottery = breakdown[0];
  breakdown.remove_prefix(1);
  for (char c : breakdown)
    if (contains(seps_, c))
      return std::nullopt;  // more than one number: not one of our ids
  std::string buffer = lottery + salt_ + alphabet_;
  auto alphabet = shuffle(alphabet_, std::string_view(buffer).substr(0, alphabet_.size()));
  auto number = from_alphabet(breakdown, alphabet);
  if (!number || encode(*number) != id)
    return std::nullopt;
  return number;
}

}  // namespace actorcable::model

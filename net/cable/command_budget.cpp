#include "net/cable/command_budget.hpp"

#include <algorithm>

namespace actorcable::net {

bool command_budget::take(time_point now) {
  auto elapsed = std::chrono::duration<double>(now - refilled_).count();
  refilled_ = now;
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  if (tokens_ < 1)
    return false;
  tokens_ -= 1;
  return true;
}

command_budget::rejection command_budget::reject(std::string_view kind, time_point now) {
  rejection out;
  auto& k = kinds_[kind];
  ++k.unlogged;
  if (!k.ever || now - k.logged >= std::chrono::minutes(1)) {
    out.log_count = k.unlogged;
    k.ever = true;
    k.logged = now;
    k.unlogged = 0;
  }
  auto elapsed = std::chrono::duration<double>(now - junk_refilled_).count();
  junk_refilled_ = now;
  junk_tokens_ = std::min(junk_burst, junk_tokens_ + elapsed * junk_rate) - 1;
  if (junk_tokens_ < 0 && !cut_)
    out.cut = cut_ = true;
  return out;
}

}  // namespace actorcable::net

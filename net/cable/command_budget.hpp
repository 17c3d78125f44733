// What one connection's commands may cost (SPEC §13, issue #24): a token bucket for the
// commands that do work (subscribe, history), and an account of the ones that were ignored or
// refused: each kind logged once a minute, and past a burst of them, sustained faster than a
// client could mean, the connection is to be cut. Plain values; time is passed in.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <string_view>

namespace actorcable::net {

class command_budget {
public:
  using time_point = std::chrono::steady_clock::time_point;
  static constexpr double junk_burst = 200, junk_rate = 20;  // rejected commands, per second

  command_budget(double rate, double burst, time_point now)
    : rate_(rate), burst_(burst), tokens_(burst), refilled_(now), junk_tokens_(junk_burst),
      junk_refilled_(now) {}

  // Takes a token for a subscribe or history command; false when the bucket is empty.
  bool take(time_point now);

  struct rejection {
    std::int64_t log_count = 0;  // > 0: log this one, standing for that many of its kind
    bool cut = false;            // the connection is to be cut (said once)
  };
  // `kind` must outlive the budget (a string literal).
  rejection reject(std::string_view kind, time_point now);

private:
  double rate_, burst_, tokens_;
  time_point refilled_;
  double junk_tokens_;
  time_point junk_refilled_;
  bool cut_ = false;
  struct kind_log {
    time_point logged{};
    bool ever = false;
    std::int64_t unlogged = 0;
  };
  std::map<std::string_view, kind_log> kinds_;
};

}  // namespace actorcable::net

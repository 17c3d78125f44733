// Remembers when each offender (a key: what and who) was last logged, so a flood is logged once
// per interval and counted, not written line by line. Thread-safe; bounded in entries.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <iterator>
#include <unordered_map>
#include <utility>

namespace actorcable {

class log_throttle {
public:
  using clock = std::chrono::steady_clock;
  log_throttle() = default;
  explicit log_throttle(clock::duration interval, std::size_t max_keys = 10000)
    : interval_(interval), max_keys_(max_keys) {}

  // 0 when `key` was logged within the interval (the event is only counted); otherwise how many
  // events of the key this log line stands for (this one included).
  std::int64_t admit(const std::string& key, clock::time_point now = clock::now()) {
    std::lock_guard lock(mutex_);
    if (entries_.size() >= max_keys_)
      prune(now);
    auto [it, fresh] = entries_.try_emplace(key, entry{now, 0});
    auto& e = it->second;
    ++e.suppressed;
    if (!fresh && now - e.logged < interval_)
      return 0;
    e.logged = now;
    return std::exchange(e.suppressed, 0);
  }

private:
  struct entry {
    clock::time_point logged;
    std::int64_t suppressed;
  };
  void prune(clock::time_point now) {
    for (auto it = entries_.begin(); it != entries_.end();)
      it = now - it->second.logged >= interval_ ? entries_.erase(it) : std::next(it);
    if (entries_.size() >= max_keys_)
      entries_.clear();  // a flood of distinct keys: start over rather than grow
  }

  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
  clock::duration interval_ = std::chrono::minutes(1);
  std::size_t max_keys_ = 10000;
};

}  // namespace actorcable

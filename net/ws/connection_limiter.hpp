// WebSocket connections per user on this node (SPEC §13 limits.connections): a slot is taken
// before the upgrade and given back when the session is destroyed. Thread-safe.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace actorcable::net {

class connection_limiter : public std::enable_shared_from_this<connection_limiter> {
public:
  explicit connection_limiter(std::size_t per_user) : per_user_(per_user) {}

  // Gives the slot back when destroyed.
  class slot {
  public:
    slot() = default;
    slot(std::shared_ptr<connection_limiter> owner, std::int64_t user)
      : owner_(std::move(owner)), user_(user) {}
    slot(slot&&) = default;
    slot& operator=(slot&&) = default;
    ~slot() {
      if (owner_)
        owner_->release(user_);
    }

  private:
    std::shared_ptr<connection_limiter> owner_;
    std::int64_t user_ = 0;
  };

  // A slot for `user`, or nothing when the user holds `per_user` already (0: no limit).
  std::optional<slot> acquire(std::int64_t user) {
    std::lock_guard lock(mutex_);
    auto& n = counts_[user];
    if (per_user_ > 0 && n >= per_user_)
      return std::nullopt;  // n > 0 here: the entry stays for the slots the user holds
    ++n;
    return slot(shared_from_this(), user);
  }

private:
  void release(std::int64_t user) {
    std::lock_guard lock(mutex_);
    if (auto it = counts_.find(user); it != counts_.end() && --it->second == 0)
      counts_.erase(it);
  }

  std::mutex mutex_;
  std::unordered_map<std::int64_t, std::size_t> counts_;
  std::size_t per_user_;
};

}  // namespace actorcable::net

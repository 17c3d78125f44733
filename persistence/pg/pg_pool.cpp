#include "persistence/pg/pg_pool.hpp"


namespace actorcable::persistence {

pg_pool::pg_pool(std::string conninfo, std::size_t size)
  : conninfo_(std::move(conninfo)), size_(size == 0 ? 1 : size) {}

pg_pool::lease pg_pool::acquire(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> guard(mtx_);
  if (!cv_.wait_for(guard, wait, [&] { return !idle_.empty() || open_ < size_; }))
    throw pg_error("postgres pool exhausted: no connection free within "
                     + std::to_string(wait.count()) + " ms",
                   "", false);
  while (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    if (conn->alive())
      return lease(this, std::move(conn));
    --open_;  // the server closed it while it sat idle (a restart): make a new one
  }
  ++open_;
  guard.unlock();
  try {
    return lease(this, std::make_unique<pg_connection>(conninfo_));
  } catch (...) {
    std::lock_guard<std::mutex> relock(mtx_);
    --open_;
    cv_.notify_one();
    throw;
  }
}

void pg_pool::release(std::unique_ptr<pg_connection> conn) {
  std::lock_guard<std::mutex> guard(mtx_);
  if (conn->healthy() && PQtransactionStatus(conn->native()) == PQTRANS_IDLE)
    idle_.push_back(std::move(conn));
  else
    --open_;
  cv_.notify_one();
}

}  // namespace actorcable::persistence

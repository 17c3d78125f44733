// A bounded pool of connections. A connection found broken is dropped on release, so the next
// acquire reconnects: a PostgreSQL restart costs the queries in flight, not the process.
#pragma once
#include "persistence/pg/pg_connection.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace actorcable::persistence {

class pg_pool {
public:
  class lease {
  public:
    lease(pg_pool* pool, std::unique_ptr<pg_connection> conn)
      : pool_(pool), conn_(std::move(conn)) {}
    lease(lease&&) = default;
    ~lease() {
      if (pool_ && conn_)
        pool_->release(std::move(conn_));
    }
    pg_connection& operator*() { return *conn_; }
    pg_connection* operator->() { return conn_.get(); }

  private:
    pg_pool* pool_;
    std::unique_ptr<pg_connection> conn_;
  };

  pg_pool(std::string conninfo, std::size_t size);

  // Blocks up to `wait` for a free connection; throws pg_error when none can be had.
  lease acquire(std::chrono::milliseconds wait = std::chrono::seconds(10));

  const std::string& conninfo() const { return conninfo_; }

private:
  void release(std::unique_ptr<pg_connection> conn);

  std::string conninfo_;
  std::size_t size_;
  std::size_t open_ = 0;
  std::vector<std::unique_ptr<pg_connection>> idle_;
  std::mutex mtx_;
  std::condition_variable cv_;
};

}  // namespace actorcable::persistence

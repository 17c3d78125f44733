// One libpq connection: parameterised queries only, errors as exceptions carrying context.
#pragma once
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace actorcable::persistence {

class pg_error : public std::runtime_error {
public:
  pg_error(const std::string& what, std::string sqlstate, bool connection_lost)
    : std::runtime_error(what), sqlstate_(std::move(sqlstate)), connection_lost_(connection_lost) {}
  const std::string& sqlstate() const { return sqlstate_; }
  bool connection_lost() const { return connection_lost_; }

private:
  std::string sqlstate_;
  bool connection_lost_;
};

using pg_param = std::optional<std::string>;

inline pg_param param(std::int64_t v) { return std::to_string(v); }
inline pg_param param(std::string_view v) { return std::string(v); }
inline pg_param param(const char* v) { return std::string(v); }
inline pg_param param(bool v) { return std::string(v ? "t" : "f"); }
template <class T>
pg_param param(const std::optional<T>& v) { return v ? param(*v) : std::nullopt; }

class pg_result {
public:
  explicit pg_result(PGresult* res) : res_(res, &PQclear) {}
  int rows() const { return PQntuples(res_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(res_.get(), row, col) == 1; }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(res_.get(), row, col), PQgetlength(res_.get(), row, col));
  }
  std::int64_t int64(int row, int col) const;
  std::optional<std::int64_t> opt_int64(int row, int col) const;
  bool boolean(int row, int col) const { return text(row, col) == "t"; }
  std::int64_t affected() const;

private:
  std::shared_ptr<PGresult> res_;
};

class pg_connection {
public:
  // Connects; throws pg_error (connection_lost = true) when the server cannot be reached.
  explicit pg_connection(const std::string& conninfo);
  ~pg_connection();
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  pg_result exec(std::string_view sql, const std::vector<pg_param>& params = {});
  bool healthy() const;
  // healthy(), and the server has not closed the connection meanwhile (checked without waiting).
  bool alive();
  PGconn* native() { return conn_; }

  // Runs `fn` inside BEGIN/COMMIT; rolls back and rethrows on any exception.
  template <class F>
  auto transaction(F&& fn) {
    exec("BEGIN");
    try {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        exec("COMMIT");
      } else {
        auto result = fn();
        exec("COMMIT");
        return result;
      }
    } catch (...) {
      if (healthy()) {
        try { exec("ROLLBACK"); } catch (...) {}
      }
      throw;
    }
  }

private:
  PGconn* conn_ = nullptr;
};

// Quotes an identifier (e.g. a database name) for the few statements that cannot take parameters.
std::string quote_identifier(std::string_view name);

}  // namespace actorcable::persistence

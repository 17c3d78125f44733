#include "persistence/pg/pg_connection.hpp"

#include <cstdlib>
#include <poll.h>

namespace actorcable::persistence {

std::int64_t pg_result::int64(int row, int col) const {
  return std::strtoll(PQgetvalue(res_.get(), row, col), nullptr, 10);
}

std::optional<std::int64_t> pg_result::opt_int64(int row, int col) const {
  if (is_null(row, col))
    return std::nullopt;
  return int64(row, col);
}

std::int64_t pg_result::affected() const {
  return std::strtoll(PQcmdTuples(res_.get()), nullptr, 10);
}

pg_connection::pg_connection(const std::string& conninfo) {
  conn_ = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = "postgres connect failed: ";
    msg += PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
      msg.pop_back();
    PQfinish(conn_);
    conn_ = nullptr;
    throw pg_error(msg, "08001", true);
  }
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
}

pg_connection::~pg_connection() {
  if (conn_)
    PQfinish(conn_);
}

bool pg_connection::healthy() const {
  return conn_ && PQstatus(conn_) == CONNECTION_OK;
}

bool pg_connection::alive() {
  if (!healthy())
    return false;
  // An idle connection has nothing to say unless it is closing: then there is the server's
  // FATAL message, then end of file, which libpq notices on a second read.
  for (int i = 0; i < 4; ++i) {
    pollfd pfd{PQsocket(conn_), POLLIN, 0};
    if (::poll(&pfd, 1, 0) <= 0)
      break;
    if (PQconsumeInput(conn_) == 0)
      return false;
    while (PGnotify* n = PQnotifies(conn_))
      PQfreemem(n);
  }
  return PQstatus(conn_) == CONNECTION_OK;
}

pg_result pg_connection::exec(std::string_view sql, const std::vector<pg_param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (auto& p : params)
    values.push_back(p ? p->c_str() : nullptr);
  std::string query(sql);
  PGresult* res = PQexecParams(conn_, query.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
  auto status = PQresultStatus(res);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
    return pg_result(res);
  std::string sqlstate;
  if (res) {
    if (auto* s = PQresultErrorField(res, PG_DIAG_SQLSTATE))
      sqlstate = s;
  }
  std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
    msg.pop_back();
  PQclear(res);
  bool lost = PQstatus(conn_) != CONNECTION_OK || sqlstate.rfind("08", 0) == 0
              || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
  auto first_line = query.substr(0, query.find('\n'));
  throw pg_error("postgres query failed (" + (sqlstate.empty() ? "no sqlstate" : sqlstate)
                   + "): " + msg + " [query: " + first_line.substr(0, 80) + "]",
                 sqlstate, lost);
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"')
      out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace actorcable::persistence

// Structured logs: one JSON object per line on stderr (time, level, component, event, fields).
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace actorcable::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };

struct field {
  std::string_view key;
  std::string value;
  bool quoted = true;
  field(std::string_view k, std::string_view v) : key(k), value(v) {}
  field(std::string_view k, const char* v) : key(k), value(v) {}
  field(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
  field(std::string_view k, T v) : key(k), value(std::to_string(v)), quoted(false) {}
};

// The threshold comes from ACTORCABLE_LOG_LEVEL (debug|info|warn|error, default info), read once.
bool enabled(level lvl);
void write(level lvl, std::string_view component, std::string_view event,
           std::initializer_list<field> fields = {});

inline void info(std::string_view c, std::string_view e, std::initializer_list<field> f = {}) {
  write(level::info, c, e, f);
}
inline void warn(std::string_view c, std::string_view e, std::initializer_list<field> f = {}) {
  write(level::warn, c, e, f);
}
inline void error(std::string_view c, std::string_view e, std::initializer_list<field> f = {}) {
  write(level::error, c, e, f);
}
inline void debug(std::string_view c, std::string_view e, std::initializer_list<field> f = {}) {
  if (enabled(level::debug))
    write(level::debug, c, e, f);
}

// JSON string escaping shared by everything that writes JSON by hand.
void append_json_string(std::string& out, std::string_view s);

}  // namespace actorcable::log

#include "common/log.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace actorcable::log {
namespace {

level threshold() {
  static const level value = [] {
    const char* env = std::getenv("ACTORCABLE_LOG_LEVEL");
    std::string_view v = env ? env : "info";
    if (v == "debug") return level::debug;
    if (v == "warn") return level::warn;
    if (v == "error") return level::error;
    return level::info;
  }();
  return value;
}

const char* name(level lvl) {
  switch (lvl) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}

}  // namespace

bool enabled(level lvl) {
  return lvl >= threshold();
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void write(level lvl, std::string_view component, std::string_view event,
           std::initializer_list<field> fields) {
  if (!enabled(lvl))
    return;
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count()
            % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[96];  // room for any int the format could print (no truncation warning)
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  std::string line = "{\"time\":\"";
  line += ts;
  line += "\",\"level\":\"";
  line += name(lvl);
  line += "\",\"component\":";
  append_json_string(line, component);
  line += ",\"event\":";
  append_json_string(line, event);
  for (auto& f : fields) {
    line += ',';
    append_json_string(line, f.key);
    line += ':';
    if (f.quoted)
      append_json_string(line, f.value);
    else
      line += f.value;
  }
  line += "}\n";
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write per line: lines never interleave
}

}  // namespace actorcable::log

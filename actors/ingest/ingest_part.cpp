#include "actors/ingest/ingest_part.hpp"

#include "model/utf8.hpp"

#include <boost/json.hpp>

namespace actorcable::actors {
namespace json = boost::json;

namespace {

// The string field `key`; `required` fields must be there. A NUL (PostgreSQL text cannot hold
// one) is refused, never cut.
bool string_field(const json::object& o, const char* key, std::string& out, bool required) {
  auto* v = o.if_contains(key);
  if (!v)
    return !required;
  if (!v->is_string() || v->as_string().find('\0') != json::string::npos)
    return false;
  out = std::string(v->as_string());
  return true;
}

// A token count: a whole number its integer column holds (0..2^31-1), or absent.
bool count_field(const json::object& o, const char* key, std::optional<std::int64_t>& out) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null())
    return true;
  if (!v->is_int64() || !model::fits_int_column(v->as_int64()))
    return false;
  out = v->as_int64();
  return true;
}

}  // namespace

std::variant<ingest_part, std::string> parse_ingest_part(std::string_view line) {
  boost::system::error_code ec;
  auto value = json::parse(line, ec);
  if (ec)
    return std::string("not JSON");
  auto* o = value.if_object();
  if (!o)
    return std::string("not a JSON object");
  std::string type;
  if (!string_field(*o, "type", type, true))
    return std::string("\"type\" must be a string");
  ingest_part p;
  if (type == "text" || type == "thinking") {
    p.type = type == "text" ? ingest_part::kind::text : ingest_part::kind::thinking;
    if (!string_field(*o, "text", p.text, true))
      return std::string("\"text\" must be a string without NUL characters");
  } else if (type == "tool") {
    p.type = ingest_part::kind::tool;
    if (!string_field(*o, "call_id", p.call.call_id, true) || !string_field(*o, "name", p.call.name, true)
        || !string_field(*o, "status", p.call.status, true)
        || !string_field(*o, "summary", p.call.summary, false))
      return std::string("a tool part needs string call_id, name and status (and summary), without NUL characters");
    if (p.call.status != "running" && p.call.status != "done" && p.call.status != "error")
      return std::string("a tool's status is running, done or error");
  } else if (type == "usage") {
    p.type = ingest_part::kind::usage;
    if (!count_field(*o, "input_tokens", p.usage.input_tokens)
        || !count_field(*o, "output_tokens", p.usage.output_tokens))
      return std::string("token counts are whole numbers from 0 to 2147483647");
    if (!string_field(*o, "model_id", p.usage.model_id, false))
      return std::string("\"model_id\" must be a string without NUL characters");
  } else if (type == "end") {
    p.type = ingest_part::kind::end;
    std::string status = "complete";
    if (!string_field(*o, "status", status, false) || (status != "complete" && status != "error"))
      return std::string("an end's status is complete or error");
    p.failed = status == "error";
    if (!string_field(*o, "error", p.error, false))
      return std::string("\"error\" must be a string without NUL characters");
  } else {
    return std::string("unknown type");
  }
  return p;
}

}  // namespace actorcable::actors

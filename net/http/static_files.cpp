#include "net/http/static_files.hpp"

#include <fstream>
#include <sstream>

namespace actorcable::net {
namespace {

std::string content_type_of(std::string_view path) {
  auto dot = path.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot);
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  return "application/octet-stream";
}

}  // namespace

std::optional<static_file> find_static_file(const std::string& web_root, std::string_view path) {
  if (web_root.empty() || path.empty() || path[0] != '/')
    return std::nullopt;
  std::string rel = path == "/" ? "index.html" : std::string(path.substr(1));
  if (rel.find("..") != std::string::npos || rel.find('\\') != std::string::npos
      || rel.find('\0') != std::string::npos)
    return std::nullopt;
  for (char c : rel)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '-'
          || c == '_'))
      return std::nullopt;
  std::ifstream in(web_root + "/" + rel, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream body;
  body << in.rdbuf();
  if (in.bad())
    return std::nullopt;
  return static_file{body.str(), content_type_of(rel)};
}

}  // namespace actorcable::net

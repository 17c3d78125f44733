// The web page's files, read from the web root (SPEC §4: GET /).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace actorcable::net {

struct static_file {
  std::string body;
  std::string content_type;
};

// The file for a URL path ("/" -> index.html); nullopt when absent or outside the root.
std::optional<static_file> find_static_file(const std::string& web_root, std::string_view path);

}  // namespace actorcable::net

// "host:port", split at the last colon: the config's addresses and the membership table's.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace actorcable {

// nullopt without a host, or with a port that is not a number in 1..65535 (0 too if allowed).
inline std::optional<std::pair<std::string, std::uint16_t>> split_host_port(std::string_view text,
                                                                            bool port_zero_ok) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return std::nullopt;
  std::string port_text(text.substr(colon + 1));
  char* end = nullptr;
  long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < (port_zero_ok ? 0 : 1) || port > 65535)
    return std::nullopt;
  return std::pair<std::string, std::uint16_t>{std::string(text.substr(0, colon)),
                                               static_cast<std::uint16_t>(port)};
}

// Whether `host` can only be reached from this machine: localhost, 127.0.0.0/8 or ::1.
inline bool is_loopback(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]")
    return true;
  if (host.substr(0, 4) != "127.")
    return false;
  int dots = 0;
  for (char c : host.substr(4)) {
    if (c == '.')
      ++dots;
    else if (c < '0' || c > '9')
      return false;
  }
  return dots == 2;
}

}  // namespace actorcable

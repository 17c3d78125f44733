// The effective configuration: conf/actorcable.ini, then environment overrides (SPEC §1).
#pragma once
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace actorcable::app {

struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class config {
public:
  // Reads `path` (empty: conf/actorcable.ini if present, else /etc/actorcable/actorcable.ini if
  // present, else defaults) and applies the environment. Throws config_error naming the key.
  static config load(const std::string& path);
  // The built-in defaults alone (no file, no environment).
  static config from_defaults();

  std::string str(const std::string& key) const;
  std::string str_or(const std::string& key, const std::string& fallback) const;
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  // The NAMEs of the [provider.NAME] sections (SPEC §10), in name order.
  std::vector<std::string> provider_sections() const;
  std::int64_t integer(const std::string& key, std::int64_t min, std::int64_t max) const;
  // "host:port" of server.bind
  std::pair<std::string, std::uint16_t> bind() const;
  // cluster.bind (empty host: not set) and the cluster.peers list
  std::pair<std::string, std::uint16_t> cluster_bind() const;
  std::vector<std::pair<std::string, std::uint16_t>> cluster_peers() const;
  std::string host_name() const;  // gethostname(), or "local"
  std::string node_name() const;
  // key = value lines with secrets masked.
  std::string describe() const;

private:
  std::map<std::string, std::string> values_;  // "section.key" -> value
};

}  // namespace actorcable::app

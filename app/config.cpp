#include "app/config.hpp"

#include "common/host_port.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace actorcable::app {
namespace {

const std::map<std::string, std::string>& defaults() {
  static const std::map<std::string, std::string> d = {
    {"server.bind", "127.0.0.1:8080"},
    {"server.io_threads", "2"},
    {"server.db_threads", "4"},
    {"server.web_root", "build/web"},
    {"server.max_frame_bytes", "65536"},
    {"server.max_body_bytes", "1048576"},
    {"server.write_queue_limit_bytes", "1048576"},
    {"server.ping_interval_s", "3"},
    {"server.header_timeout_s", "10"},
    {"server.allowed_origins", ""},
    {"server.subscribe_rate", "50"},
    {"server.session_ttl_s", "300"},
    {"server.drain_s", "10"},
    {"server.subscribe_burst", "100"},
    {"server.batched_sends", "on"},
    {"database.url", ""},
    {"database.pool_size", "8"},
    {"auth.secret", ""},
    {"auth.token_ttl_s", "86400"},
    {"auth.ingest_key", ""},
    {"node.name", ""},
    {"node.lease_s", "6"},
    {"cluster.bind", ""},
    {"cluster.peers", ""},
    {"cluster.advertise", ""},
    {"cluster.tls_cert", ""},
    {"cluster.tls_key", ""},
    {"cluster.tls_ca", ""},
    {"streams.flush_interval_ms", "120"},
    {"streams.idle_timeout_s", "30"},
    {"streams.retention_s", "300"},
    {"streams.history_budget_chars", "24000"},
    {"streams.db_down_limit_s", "30"},
    {"streams.max_replay_bytes", "262144"},
    {"streams.continue", "on"},
    {"limits.answers_concurrent", "4"},
    {"limits.answers_per_minute", "20"},
    {"limits.connections", "64"},
    {"limits.subscriptions", "256"},
    {"limits.identifier_bytes", "1024"},
    {"limits.chats", "1000"},
    {"limits.sessions", "16"},
    {"limits.session_bytes", "262144"},
    {"provider.name", "scripted"},
    {"provider.scripted_rate", "20"},
    {"provider.scripted_chunks", "40"},
    {"provider.openai_base_url", "https://api.openai.com"},
    {"provider.openai_api_key", ""},
    {"provider.openai_model", "gpt-4o-mini"},
    {"provider.anthropic_base_url", "https://api.anthropic.com"},
    {"provider.anthropic_api_key", ""},
    {"provider.anthropic_model", "claude-sonnet-4-5"},
    {"provider.anthropic_max_tokens", "4096"},
    {"provider.openai_connect_timeout_s", "10"},
    {"provider.openai_first_token_timeout_s", "30"},
    {"provider.openai_idle_timeout_s", "30"},
    {"provider.openai_total_timeout_s", "600"},
    {"provider.openai_max_retries", "3"},
    {"provider.openai_backoff_ms", "500"},
    {"models.default", ""},
    {"models.failover", ""},
  };
  return d;
}

const std::map<std::string, std::string>& env_overrides() {
  static const std::map<std::string, std::string> e = {
    {"DATABASE_URL", "database.url"},
    {"ACTORCABLE_BIND", "server.bind"},
    {"ACTORCABLE_SECRET", "auth.secret"},
    {"ACTORCABLE_INGEST_KEY", "auth.ingest_key"},
    {"ACTORCABLE_NODE_NAME", "node.name"},
    {"ACTORCABLE_CLUSTER_BIND", "cluster.bind"},
    {"ACTORCABLE_PEERS", "cluster.peers"},
    {"ACTORCABLE_CLUSTER_ADVERTISE", "cluster.advertise"},
    {"ACTORCABLE_CLUSTER_TLS_CERT", "cluster.tls_cert"},
    {"ACTORCABLE_CLUSTER_TLS_KEY", "cluster.tls_key"},
    {"ACTORCABLE_CLUSTER_TLS_CA", "cluster.tls_ca"},
    {"ACTORCABLE_IDLE_TIMEOUT_S", "streams.idle_timeout_s"},
    {"ACTORCABLE_STREAMS_CONTINUE", "streams.continue"},
    {"ACTORCABLE_BATCHED_SENDS", "server.batched_sends"},
    {"ACTORCABLE_WEB_ROOT", "server.web_root"},
    {"ACTORCABLE_LIMIT_ANSWERS_CONCURRENT", "limits.answers_concurrent"},
    {"ACTORCABLE_LIMIT_ANSWERS_PER_MINUTE", "limits.answers_per_minute"},
    {"ACTORCABLE_LIMIT_CONNECTIONS", "limits.connections"},
    {"ACTORCABLE_LIMIT_SUBSCRIPTIONS", "limits.subscriptions"},
    {"ACTORCABLE_LIMIT_IDENTIFIER_BYTES", "limits.identifier_bytes"},
    {"ACTORCABLE_LIMIT_CHATS", "limits.chats"},
    {"ACTORCABLE_LIMIT_SESSIONS", "limits.sessions"},
    {"ACTORCABLE_LIMIT_SESSION_BYTES", "limits.session_bytes"},
    {"AI_PROVIDER", "provider.name"},
    {"OPENAI_BASE_URL", "provider.openai_base_url"},
    {"OPENAI_API_KEY", "provider.openai_api_key"},
    {"OPENAI_MODEL", "provider.openai_model"},
    {"ANTHROPIC_BASE_URL", "provider.anthropic_base_url"},
    {"ANTHROPIC_API_KEY", "provider.anthropic_api_key"},
    {"ANTHROPIC_MODEL", "provider.anthropic_model"},
  };
  return e;
}

std::string trim(std::string s) {
  auto not_space = [](char c) { return c != ' ' && c != '\t' && c != '\r'; };
  while (!s.empty() && !not_space(s.back()))
    s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && !not_space(s[i]))
    ++i;
  return s.substr(i);
}

// A key of a `[provider.NAME]` section (SPEC §10): provider.NAME.field.
bool is_named_provider_key(const std::string& key) {
  static const std::set<std::string> fields = {"type", "base_url", "api_key_env", "models",
                                               "max_tokens"};
  if (key.rfind("provider.", 0) != 0)
    return false;
  auto dot = key.rfind('.');
  auto name = key.substr(9, dot == std::string::npos || dot < 9 ? 0 : dot - 9);
  if (name.empty() || name.find('.') != std::string::npos)
    return false;
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != '_' && c != '-')
      return false;
  return fields.count(key.substr(dot + 1)) == 1;
}

bool exists(const std::string& path) {
  return access(path.c_str(), R_OK) == 0;
}

// "host:port"; `what` names the setting in the error.
std::pair<std::string, std::uint16_t> host_port(const std::string& text, const std::string& what,
                                                bool port_zero_ok) {
  if (auto split = split_host_port(text, port_zero_ok))
    return *split;
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw config_error(what + " must be host:port, not '" + text + "'");
  throw config_error(what + " has an invalid port: '" + text + "'");
}

bool is_secret(const std::string& key) {
  return key == "auth.secret" || key == "auth.ingest_key" || key == "provider.openai_api_key" || key == "provider.anthropic_api_key"
         || key == "database.url";
}

}  // namespace

config config::from_defaults() {
  config c;
  c.values_ = defaults();
  return c;
}

config config::load(const std::string& explicit_path) {
  config c;
  c.values_ = defaults();
  std::string path = explicit_path;
  if (path.empty()) {
    if (exists("conf/actorcable.ini"))
      path = "conf/actorcable.ini";
    else if (exists("/etc/actorcable/actorcable.ini"))
      path = "/etc/actorcable/actorcable.ini";
  }
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in)
      throw config_error("cannot read config file " + path);
    std::string line, section;
    int lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      line = trim(line);
      if (line.empty() || line[0] == ';' || line[0] == '#')
        continue;
      if (line.front() == '[' && line.back() == ']') {
        section = trim(line.substr(1, line.size() - 2));
        continue;
      }
      auto eq = line.find('=');
      if (eq == std::string::npos)
        throw config_error(path + ":" + std::to_string(lineno) + ": expected key = value");
      auto key = section + "." + trim(line.substr(0, eq));
      if (!c.values_.count(key) && !is_named_provider_key(key))
        throw config_error(path + ":" + std::to_string(lineno) + ": unknown key " + key);
      c.values_[key] = trim(line.substr(eq + 1));
    }
  }
  for (auto& [env, key] : env_overrides())
    if (const char* v = std::getenv(env.c_str()))
      c.values_[key] = v;
  // Validate every typed key now, so that a bad value stops the start with its name.
  c.bind();
  c.cluster_bind();
  c.cluster_peers();
  static const std::set<std::string> text_keys = {
    "server.bind", "server.web_root", "server.allowed_origins", "database.url", "auth.secret", "auth.ingest_key", "node.name", "provider.name",
    "cluster.bind", "cluster.peers", "cluster.advertise", "cluster.tls_cert", "cluster.tls_key",
    "cluster.tls_ca",
    "provider.openai_base_url", "provider.openai_api_key", "provider.openai_model",
    "provider.anthropic_base_url", "provider.anthropic_api_key", "provider.anthropic_model",
    "models.default", "models.failover", "streams.continue", "server.batched_sends"};
  for (auto& [key, value] : c.values_)
    if (is_named_provider_key(key) && key.substr(key.rfind('.')) == ".max_tokens")
      c.integer(key, 1, 1000000);
    else if (!text_keys.count(key) && !is_named_provider_key(key))
      c.integer(key, 0, INT32_MAX);
  c.integer("provider.scripted_rate", 1, 100000);
  if (auto go_on = c.str("streams.continue"); go_on != "on" && go_on != "off")
    throw config_error("streams.continue (ACTORCABLE_STREAMS_CONTINUE) must be on or off, not '"
                       + go_on + "'");
  if (auto batched = c.str("server.batched_sends"); batched != "on" && batched != "off")
    throw config_error("server.batched_sends (ACTORCABLE_BATCHED_SENDS) must be on or off, not '"
                       + batched + "'");
  auto provider = c.str("provider.name");
  if (provider != "scripted" && provider != "openai" && provider != "anthropic")
    throw config_error("provider.name (AI_PROVIDER) must be scripted, openai or anthropic, not " + provider);
  return c;
}

std::vector<std::string> config::provider_sections() const {
  std::vector<std::string> names;
  for (auto& [key, value] : values_)
    if (is_named_provider_key(key)) {
      auto name = key.substr(9, key.rfind('.') - 9);
      if (names.empty() || names.back() != name)
        names.push_back(name);
    }
  return names;
}

std::string config::str_or(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

std::string config::str(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end())
    throw config_error("unknown key " + key);
  return it->second;
}

std::int64_t config::integer(const std::string& key, std::int64_t min, std::int64_t max) const {
  auto text = str(key);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < min || v > max)
    throw config_error(key + " must be a whole number from " + std::to_string(min) + " to "
                       + std::to_string(max) + ", not '" + text + "'");
  return v;
}

std::pair<std::string, std::uint16_t> config::bind() const {
  return host_port(str("server.bind"), "server.bind (ACTORCABLE_BIND)", true);
}

std::pair<std::string, std::uint16_t> config::cluster_bind() const {
  auto text = trim(str("cluster.bind"));
  if (text.empty())
    return {};
  return host_port(text, "cluster.bind (ACTORCABLE_CLUSTER_BIND)", true);
}

std::vector<std::pair<std::string, std::uint16_t>> config::cluster_peers() const {
  std::vector<std::pair<std::string, std::uint16_t>> peers;
  std::stringstream list(str("cluster.peers"));
  std::string item;
  while (std::getline(list, item, ',')) {
    item = trim(item);
    if (!item.empty())
      peers.push_back(host_port(item, "cluster.peers (ACTORCABLE_PEERS) entry", false));
  }
  return peers;
}

std::string config::node_name() const {
  auto name = str("node.name");
  return name.empty() ? host_name() : name;
}

std::string config::host_name() const {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host[0] ? host : "local";
}

std::string config::describe() const {
  std::ostringstream out;
  for (auto& [key, value] : values_)
    out << key << " = " << (is_secret(key) && !value.empty() ? "********" : value) << "\n";
  return out.str();
}

}  // namespace actorcable::app

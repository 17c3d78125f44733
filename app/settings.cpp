#include "app/settings.hpp"

#include "common/host_port.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace actorcable::app {
namespace {

std::chrono::seconds seconds(const config& cfg, const std::string& key, std::int64_t min) {
  return std::chrono::seconds(cfg.integer(key, min, 86400 * 365));
}

std::chrono::milliseconds millis_of_seconds(const config& cfg, const std::string& key) {
  return std::chrono::milliseconds(cfg.integer(key, 1, 86400) * 1000);
}

template <class T = std::size_t>
T count(const config& cfg, const std::string& key, std::int64_t min, std::int64_t max) {
  return static_cast<T>(cfg.integer(key, min, max));
}

std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos)
      out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

// The providers and models (SPEC §10): the [provider.NAME] sections, or else the one provider
// of the old settings (provider.name / AI_PROVIDER with its model). Checks what a start needs.
void read_providers(const config& cfg, actors::provider_config& p) {
  auto names = cfg.provider_sections();
  if (names.empty()) {
    p.providers.push_back(actors::single_provider(p));
  } else {
    p.name = "named";
    for (auto& name : names) {
      auto key = "provider." + name + ".";
      actors::named_provider np{name, cfg.str_or(key + "type", ""), p.openai, {}};
      if (np.type != "scripted" && np.type != "openai" && np.type != "anthropic")
        throw config_error(key + "type must be scripted, openai or anthropic, not '" + np.type + "'");
      np.models = comma_list(cfg.str_or(key + "models", ""));
      if (np.models.empty())
        throw config_error(key + "models must name at least one model");
      if (np.type != "scripted") {
        bool anthropic = np.type == "anthropic";
        np.http.api = anthropic ? actors::provider_api::anthropic : actors::provider_api::openai;
        np.http.base_url = cfg.str_or(key + "base_url", anthropic ? "https://api.anthropic.com"
                                                                   : "https://api.openai.com");
        np.http.max_tokens = cfg.has(key + "max_tokens") ? cfg.integer(key + "max_tokens", 1, 1000000)
                                                          : 4096;
        auto env = cfg.str_or(key + "api_key_env", "");
        const char* value = env.empty() ? nullptr : std::getenv(env.c_str());
        if (!env.empty() && !value)
          throw config_error(key + "api_key_env names " + env + ", which is not set");
        np.http.api_key = value ? value : "";
      }
      for (auto& model : np.models)
        for (auto& other : p.providers)
          if (std::find(other.models.begin(), other.models.end(), model) != other.models.end())
            throw config_error(key + "models: " + model + " is served by provider " + other.name
                               + " too");
      p.providers.push_back(std::move(np));
    }
  }
  p.default_model = cfg.str("models.default");
  if (p.default_model.empty())
    p.default_model = p.providers.front().models.front();
  else if (!p.serving(p.default_model))
    throw config_error("models.default: no provider serves " + p.default_model);
  p.failover = comma_list(cfg.str("models.failover"));
  for (auto& model : p.failover)
    if (!p.serving(model))
      throw config_error("models.failover: no provider serves " + model);
}

}  // namespace

serve_settings read_serve_settings(const config& cfg) {
  serve_settings s;
  s.conninfo = cfg.str("database.url");
  s.secret = cfg.str("auth.secret");
  s.node = cfg.node_name();
  auto lease = count<int>(cfg, "node.lease_s", 2, 3600);

  auto& w = s.writer;
  w.conninfo = s.conninfo;
  w.node = s.node;
  w.lease_seconds = lease;
  w.lease_renew_interval = std::chrono::seconds(std::max(1, lease / 3));
  w.down_limit = seconds(cfg, "streams.db_down_limit_s", 1);
  w.continue_streams = cfg.str("streams.continue") == "on";  // on | off: checked by config::load
  w.history_budget_chars = count(cfg, "streams.history_budget_chars", 0, INT32_MAX);

  auto& m = s.streams;
  m.flush_interval = std::chrono::milliseconds(cfg.integer("streams.flush_interval_ms", 1, 60000));
  m.idle_timeout = seconds(cfg, "streams.idle_timeout_s", 1);
  m.retention = seconds(cfg, "streams.retention_s", 0);
  m.max_replay_bytes = count(cfg, "streams.max_replay_bytes", 0, INT32_MAX);

  auto& p = s.provider;
  p.name = cfg.str("provider.name");
  p.scripted.default_rate = count<double>(cfg, "provider.scripted_rate", 1, 100000);
  p.scripted.default_chunks = count<int>(cfg, "provider.scripted_chunks", 0, 1000000);
  auto& o = p.openai;
  o.base_url = cfg.str("provider.openai_base_url");
  o.api_key = cfg.str("provider.openai_api_key");
  o.model = cfg.str("provider.openai_model");
  o.connect_timeout = millis_of_seconds(cfg, "provider.openai_connect_timeout_s");
  o.first_token_timeout = millis_of_seconds(cfg, "provider.openai_first_token_timeout_s");
  o.idle_timeout = millis_of_seconds(cfg, "provider.openai_idle_timeout_s");
  o.total_timeout = millis_of_seconds(cfg, "provider.openai_total_timeout_s");
  o.max_retries = count<int>(cfg, "provider.openai_max_retries", 0, 20);
  o.backoff_initial = std::chrono::milliseconds(cfg.integer("provider.openai_backoff_ms", 1, 600000));
  if (p.name == "anthropic") {  // the same HTTP provider, speaking the Messages API
    o.api = actors::provider_api::anthropic;
    o.base_url = cfg.str("provider.anthropic_base_url");
    o.api_key = cfg.str("provider.anthropic_api_key");
    o.model = cfg.str("provider.anthropic_model");
    o.max_tokens = cfg.integer("provider.anthropic_max_tokens", 1, 1000000);
  }
  read_providers(cfg, p);

  auto& a = s.api;
  for (auto& np : p.providers)
    for (auto& m : np.models)
      a.models.push_back({m, np.name, m == p.default_model});
  a.secret = s.secret;
  a.node = s.node;
  a.lease_seconds = lease;
  a.history_budget_chars = count(cfg, "streams.history_budget_chars", 0, INT32_MAX);
  a.limits.concurrent = count<int>(cfg, "limits.answers_concurrent", 0, 1000000);
  a.limits.per_minute = count<int>(cfg, "limits.answers_per_minute", 0, 1000000);
  a.chats_per_user = count<int>(cfg, "limits.chats", 0, 100000000);

  auto& n = s.server;
  std::tie(n.host, n.port) = cfg.bind();
  n.io_threads = count(cfg, "server.io_threads", 1, 64);
  n.db_threads = count(cfg, "server.db_threads", 1, 256);
  n.max_frame_bytes = count(cfg, "server.max_frame_bytes", 1024, INT32_MAX);
  n.max_body_bytes = count(cfg, "server.max_body_bytes", 1024, INT32_MAX);
  n.write_queue_limit = count(cfg, "server.write_queue_limit_bytes", 1024, INT32_MAX);
  n.ping_interval = seconds(cfg, "server.ping_interval_s", 1);
  n.header_timeout = seconds(cfg, "server.header_timeout_s", 1);
  n.connections_per_user = count(cfg, "limits.connections", 0, 1000000);
  n.max_subscriptions = count(cfg, "limits.subscriptions", 0, 100000);
  n.max_identifier_bytes = count(cfg, "limits.identifier_bytes", 0, 1 << 20);
  n.subscribe_rate = count<double>(cfg, "server.subscribe_rate", 1, 1000000);
  n.subscribe_burst = count<double>(cfg, "server.subscribe_burst", 1, 1000000);
  n.batched_sends = cfg.str("server.batched_sends") == "on";  // on | off: checked by config::load
  n.secret = s.secret;
  n.ingest_key = cfg.str("auth.ingest_key");
  n.idle_timeout = m.idle_timeout;
  n.writer_timeout = m.writer_timeout;
  n.web_root = cfg.str("server.web_root");
  std::stringstream origins(cfg.str("server.allowed_origins"));
  for (std::string o; std::getline(origins, o, ',');) {
    o.erase(0, o.find_first_not_of(' '));
    o.erase(o.find_last_not_of(' ') + 1);
    if (o.empty())
      continue;
    if (o.rfind("http://", 0) != 0 && o.rfind("https://", 0) != 0)
      throw config_error("server.allowed_origins: '" + o + "' is not an http(s) origin");
    n.allowed_origins.push_back(o);
  }

  s.pool_size = count(cfg, "database.pool_size", 1, 1000);
  s.session_ttl = seconds(cfg, "server.session_ttl_s", 1);
  s.session_limits.count = count(cfg, "limits.sessions", 0, 1000000);
  s.session_limits.bytes = count(cfg, "limits.session_bytes", 0, INT32_MAX);
  s.drain = seconds(cfg, "server.drain_s", 0);
  std::tie(s.cluster_host, s.cluster_port) = cfg.cluster_bind();
  s.cluster_advertise = cfg.str("cluster.advertise");
  if (s.cluster_advertise.empty())
    s.cluster_advertise = s.cluster_host == "0.0.0.0" || s.cluster_host == "::" ? cfg.host_name() : s.cluster_host;
  s.lease_seconds = lease;
  // A relay waits for the takeover: the lease to run out, a sweep, and the new owner's start.
  s.takeover_wait = w.continue_streams ? std::chrono::seconds(2 * lease + 5) : std::chrono::seconds(0);
  s.membership_interval = std::chrono::seconds(std::max(1, lease / 3));
  for (auto& [host, port] : cfg.cluster_peers())
    s.peers.push_back({host, port});
  s.cluster_tls = {cfg.str("cluster.tls_cert"), cfg.str("cluster.tls_key"), cfg.str("cluster.tls_ca")};
  auto& tls = s.cluster_tls;
  if ((tls.cert.empty() || tls.key.empty() || tls.ca.empty())
      && !(tls.cert.empty() && tls.key.empty() && tls.ca.empty()))
    throw config_error("cluster.tls_cert, cluster.tls_key and cluster.tls_ca (ACTORCABLE_CLUSTER_TLS_CERT, "
                       "_KEY, _CA) go together: set all three or none");
  // Anyone who reaches a plain cluster port is a member: only loopback may go without TLS.
  if (!tls.enabled() && !s.cluster_host.empty() && !is_loopback(s.cluster_host))
    throw config_error("cluster.bind " + s.cluster_host + " is not a loopback address: set "
                       "cluster.tls_cert, cluster.tls_key and cluster.tls_ca (ACTORCABLE_CLUSTER_TLS_CERT, "
                       "ACTORCABLE_CLUSTER_TLS_KEY, ACTORCABLE_CLUSTER_TLS_CA; `actorcable cluster-certs` makes them)");
  return s;
}

}  // namespace actorcable::app

// One set of defaults: what `serve` reads from the built-in configuration equals each module's
// own default struct (conf/actorcable.ini documents the same values: e2e.operations compares it
// with `actorcable config`), and a value out of range stops the start naming its key.
#define CAF_SUITE settings
#include "test_dsl.hpp"

#include "app/settings.hpp"

#include <cstdio>
#include <fstream>
#include <unistd.h>

using namespace actorcable;
using namespace actorcable::app;

CAF_TEST(the built in defaults are the modules own defaults) {
  auto s = read_serve_settings(config::from_defaults());
  actors::writer_config w;
  CAF_CHECK_EQUAL(s.writer.lease_seconds, w.lease_seconds);
  CAF_CHECK_EQUAL(s.writer.lease_renew_interval, w.lease_renew_interval);
  CAF_CHECK_EQUAL(s.writer.down_limit, w.down_limit);
  CAF_CHECK_EQUAL(s.writer.continue_streams, w.continue_streams);
  CAF_CHECK_EQUAL(s.writer.history_budget_chars, w.history_budget_chars);
  actors::message_actor_config m;
  CAF_CHECK_EQUAL(s.streams.flush_interval, m.flush_interval);
  CAF_CHECK_EQUAL(s.streams.idle_timeout, m.idle_timeout);
  CAF_CHECK_EQUAL(s.streams.retention, m.retention);
  CAF_CHECK_EQUAL(s.streams.max_replay_bytes, m.max_replay_bytes);
  actors::provider_config p;
  CAF_CHECK_EQUAL(s.provider.name, p.name);
  CAF_CHECK_EQUAL(s.provider.scripted.default_chunks, p.scripted.default_chunks);
  CAF_CHECK_EQUAL(s.provider.scripted.default_rate, p.scripted.default_rate);
  CAF_CHECK_EQUAL(s.provider.openai.base_url, p.openai.base_url);
  CAF_CHECK_EQUAL(s.provider.openai.model, p.openai.model);
  CAF_CHECK_EQUAL(s.provider.openai.connect_timeout.count(), p.openai.connect_timeout.count());
  CAF_CHECK_EQUAL(s.provider.openai.first_token_timeout.count(), p.openai.first_token_timeout.count());
  CAF_CHECK_EQUAL(s.provider.openai.idle_timeout.count(), p.openai.idle_timeout.count());
  CAF_CHECK_EQUAL(s.provider.openai.total_timeout.count(), p.openai.total_timeout.count());
  CAF_CHECK_EQUAL(s.provider.openai.max_retries, p.openai.max_retries);
  CAF_CHECK_EQUAL(s.provider.openai.backoff_initial.count(), p.openai.backoff_initial.count());
  net::api_settings a;
  CAF_CHECK_EQUAL(s.api.lease_seconds, a.lease_seconds);
  CAF_CHECK_EQUAL(s.api.history_budget_chars, a.history_budget_chars);
  CAF_CHECK_EQUAL(s.api.limits.concurrent, a.limits.concurrent);
  CAF_CHECK_EQUAL(s.api.limits.per_minute, a.limits.per_minute);
  CAF_CHECK_EQUAL(s.api.chats_per_user, a.chats_per_user);
  net::server_config n;
  CAF_CHECK_EQUAL(s.server.host, n.host);
  CAF_CHECK_EQUAL(s.server.port, n.port);
  CAF_CHECK_EQUAL(s.server.io_threads, n.io_threads);
  CAF_CHECK_EQUAL(s.server.db_threads, n.db_threads);
  CAF_CHECK_EQUAL(s.server.max_frame_bytes, n.max_frame_bytes);
  CAF_CHECK_EQUAL(s.server.max_body_bytes, n.max_body_bytes);
  CAF_CHECK_EQUAL(s.server.write_queue_limit, n.write_queue_limit);
  CAF_CHECK_EQUAL(s.server.ping_interval.count(), n.ping_interval.count());
  CAF_CHECK_EQUAL(s.server.header_timeout.count(), n.header_timeout.count());
  CAF_CHECK_EQUAL(s.server.connections_per_user, n.connections_per_user);
  CAF_CHECK_EQUAL(s.server.max_subscriptions, n.max_subscriptions);
  CAF_CHECK_EQUAL(s.server.max_identifier_bytes, n.max_identifier_bytes);
  CAF_CHECK_EQUAL(s.server.subscribe_rate, n.subscribe_rate);
  CAF_CHECK_EQUAL(s.server.subscribe_burst, n.subscribe_burst);
  CAF_CHECK_EQUAL(s.server.web_root, n.web_root);
  serve_settings d;
  CAF_CHECK_EQUAL(s.pool_size, d.pool_size);
  CAF_CHECK_EQUAL(s.session_ttl, d.session_ttl);
  net::session_limits l;
  CAF_CHECK_EQUAL(s.session_limits.count, l.count);
  CAF_CHECK_EQUAL(s.session_limits.bytes, l.bytes);
  CAF_CHECK_EQUAL(s.drain.count(), d.drain.count());
  CAF_CHECK(!s.clustered());
  CAF_CHECK_EQUAL(s.lease_seconds, d.lease_seconds);
  CAF_CHECK_EQUAL(s.membership_interval, d.membership_interval);
}

namespace {
// A configuration read from `ini` the way `serve` reads its file.
config from_ini(const std::string& ini) {
  char path[] = "/tmp/actorcable-settings-XXXXXX";
  int fd = mkstemp(path);
  CAF_REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(path) << ini;
  auto c = config::load(path);
  std::remove(path);
  return c;
}
}  // namespace

CAF_TEST(cluster bind port 0 is a free port and the advertised host defaults to the bind host) {
  auto s = read_serve_settings(from_ini("[cluster]\nbind = 127.0.0.1:0\n"));
  CAF_CHECK(s.clustered());
  CAF_CHECK_EQUAL(s.cluster_port, 0);
  CAF_CHECK_EQUAL(s.cluster_advertise, "127.0.0.1");
  const std::string tls = "tls_cert = n.pem\ntls_key = n.key\ntls_ca = ca.pem\n";
  auto any = from_ini("[cluster]\nbind = 0.0.0.0:7000\n" + tls);
  CAF_CHECK_EQUAL(read_serve_settings(any).cluster_advertise, any.host_name());
  auto named = read_serve_settings(from_ini("[cluster]\nbind = 0.0.0.0:7000\nadvertise = node-a.internal\n" + tls));
  CAF_CHECK_EQUAL(named.cluster_advertise, "node-a.internal");
  CAF_CHECK_EQUAL(named.cluster_port, 7000);
}

// SPEC §17: anyone who reaches a plain cluster port is a member, so only loopback goes without TLS.
CAF_TEST(a cluster bound off loopback needs all three TLS files) {
  auto refused = [](const std::string& ini, const std::string& words) {
    try {
      read_serve_settings(from_ini(ini));
      CAF_FAIL("accepted: " << ini);
    } catch (const config_error& e) {
      CAF_CHECK(std::string(e.what()).find(words) != std::string::npos);
    }
  };
  refused("[cluster]\nbind = 0.0.0.0:7000\n", "ACTORCABLE_CLUSTER_TLS_CERT");
  refused("[cluster]\nbind = 10.0.0.5:7000\n", "not a loopback address");
  refused("[cluster]\nbind = 127.0.0.1:0\ntls_cert = n.pem\n", "set all three or none");
  CAF_CHECK(!read_serve_settings(from_ini("[cluster]\nbind = 127.0.0.1:0\n")).cluster_tls.enabled());
  CAF_CHECK(!read_serve_settings(from_ini("[cluster]\nbind = [::1]:0\n")).cluster_tls.enabled());
  auto s = read_serve_settings(from_ini("[cluster]\nbind = 0.0.0.0:7000\ntls_cert = n.pem\ntls_key = n.key\ntls_ca = ca.pem\n"));
  CAF_CHECK_EQUAL(s.cluster_tls.cert, "n.pem");
  CAF_CHECK_EQUAL(s.cluster_tls.key, "n.key");
  CAF_CHECK_EQUAL(s.cluster_tls.ca, "ca.pem");
}

CAF_TEST(SPEC defaults bind 127.0.0.1 port 8080 idle timeout 30 s limits 4 20 64) {
  auto s = read_serve_settings(config::from_defaults());
  CAF_CHECK_EQUAL(s.server.host, "127.0.0.1");
  CAF_CHECK_EQUAL(s.server.port, 8080);
  CAF_CHECK_EQUAL(s.streams.idle_timeout, caf::timespan{std::chrono::seconds(30)});
  CAF_CHECK_EQUAL(s.api.limits.concurrent, 4);
  CAF_CHECK_EQUAL(s.api.limits.per_minute, 20);
  CAF_CHECK_EQUAL(s.server.connections_per_user, 64u);
  CAF_CHECK_EQUAL(s.server.header_timeout.count(), 10);
}

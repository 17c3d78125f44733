#include "app/commands.hpp"

#include "actors/store/access_listener.hpp"
#include "actors/provider/launcher.hpp"
#include "actors/cluster/cluster.hpp"
#include "actors/stream/directory.hpp"
#include "actors/store/stream_writer.hpp"
#include "common/log.hpp"
#include "model/obfuscated_id.hpp"
#include "net/http/api.hpp"
#include "net/http/jwt.hpp"
#include "actors/provider/openai_provider.hpp"
#include "net/server.hpp"
#include "net/cable/session_store.hpp"
#include "persistence/chats_repository.hpp"
#include "persistence/pg/migrator.hpp"
#include "persistence/pg/pg_pool.hpp"
#include "persistence/stream_store.hpp"
#include "persistence/users_repository.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <chrono>
#include <csignal>
#include <iostream>
#include <pthread.h>
#include <thread>

namespace actorcable::app {
namespace {

std::string require_database(const config& cfg) {
  auto url = cfg.str("database.url");
  if (url.empty())
    throw config_error("database.url (DATABASE_URL) is not set; scripts/run starts a private "
                       "PostgreSQL and sets it");
  return url;
}

std::string require_secret(const config& cfg) {
  auto secret = cfg.str("auth.secret");
  if (secret.empty())
    throw config_error("auth.secret (ACTORCABLE_SECRET) is not set");
  return secret;
}

std::chrono::seconds seconds(const config& cfg, const std::string& key, std::int64_t min) {
  return std::chrono::seconds(cfg.integer(key, min, 86400 * 365));
}

// Lets running answers finish for `drain_time`, then ends the rest as interrupted, and waits for
// every final write. Polls a gauge: the actors it waits for have no handle to tell it.
void drain(caf::actor_system& sys, const metrics& stats, const caf::actor& directory,
           const caf::actor& writer, std::chrono::seconds drain_time) {
  using clock = std::chrono::steady_clock;
  auto wait_until_idle = [&](clock::time_point deadline) {
    while (stats.active_streams.load() > 0 && clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return stats.active_streams.load() == 0;
  };
  if (!wait_until_idle(clock::now() + drain_time)) {
    log::warn("server", "interrupting_streams", {{"streaming", stats.active_streams.load()}});
    caf::anon_send(directory, actors::end_atom::value, model::stream_status::interrupted,
                   std::string("the server shut down"));
    wait_until_idle(clock::now() + std::chrono::seconds(10));
  }
  caf::scoped_actor self{sys};
  self->request(writer, std::chrono::seconds(10), caf::get_atom::value)
    .receive([](std::int64_t, std::int64_t) {},
             [](caf::error& err) {
               log::error("server", "final_flush_failed", {{"error", caf::to_string(err)}});
             });
}

}  // namespace

int run_migrate(const config& cfg) {
  persistence::pg_connection conn(require_database(cfg));
  auto applied = persistence::migrate(conn);
  for (auto v : applied)
    log::info("migrate", "applied", {{"version", v}});
  log::info("migrate", "done", {{"applied", applied.size()}});
  return 0;
}

int run_token(const config& cfg, const std::string& email) {
  auto secret = require_secret(cfg);
  persistence::pg_connection conn(require_database(cfg));
  persistence::migrate(conn);
  auto user = persistence::ensure_user_with_account(conn, email);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
  std::cout << net::jwt_sign(secret, model::encode_id(model::model_kind::user, user.id),
                             now + cfg.integer("auth.token_ttl_s", 1, INT32_MAX))
            << std::endl;
  return 0;
}

int run_seed(const config& cfg, const std::string& email) {
  persistence::pg_connection conn(require_database(cfg));
  persistence::migrate(conn);
  auto user = persistence::ensure_user_with_account(conn, email);
  auto chats = persistence::chats_visible_to(conn, user.id);
  auto chat = chats.empty()
                ? persistence::create_chat(conn, *persistence::default_account_id(conn, user.id),
                                           "Welcome")
                : chats.front();
  std::cout << model::encode_id(model::model_kind::chat, chat.id) << std::endl;
  return 0;
}

int run_serve(const config& cfg) {
  auto conninfo = require_database(cfg);
  auto secret = require_secret(cfg);
  auto node = cfg.node_name();
  auto lease = static_cast<int>(cfg.integer("node.lease_s", 2, 3600));
  {
    persistence::pg_connection conn(conninfo);
    persistence::migrate(conn);
    // Before listening: rows this node owned in its previous life are nobody's now. A client
    // that resubscribes finds them closed (interrupted), never streaming forever.
    for (auto id : persistence::close_orphans(conn, node, true))
      log::warn("server", "orphan_stream_closed", {{"message_id", id}, {"node", node}});
  }
  // Signals are taken by sigwait below; every thread started from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Outlives the actor system: provider actors hand it their connections until they are gone.
  std::unique_ptr<actors::provider_io> provider_io;
  if (cfg.str("provider.name") == "openai")
    provider_io = std::make_unique<actors::provider_io>();

  auto [cluster_host, cluster_port] = cfg.cluster_bind();
  auto peers = cfg.cluster_peers();
  bool clustered = cluster_port != 0 || !peers.empty();
  caf::actor_system_config caf_cfg;
  if (clustered) {
    caf_cfg.load<caf::io::middleman>();
    // A peer that stops answering (paused, cut off) is taken as lost after 5 s; its relays here
    // end their streams as interrupted, and its rows are closed once its lease runs out.
    caf_cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(1)});
    caf_cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(5)});
    // What crosses between nodes.
    caf_cfg.add_message_type<actors::stream_event_ptr>("actorcable::stream_event");
    caf_cfg.add_message_type<actors::catchup>("actorcable::catchup");
  }
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf_cfg.set("scheduler.max-threads", 2);
  caf_cfg.set("logger.file-verbosity", caf::atom("quiet"));
  caf_cfg.set("logger.console-verbosity", caf::atom("quiet"));
  caf::actor_system sys{caf_cfg};
  metrics stats;

  actors::writer_config wcfg;
  wcfg.conninfo = conninfo;
  wcfg.node = node;
  wcfg.lease_seconds = lease;
  wcfg.lease_renew_interval = std::chrono::seconds(std::max(1, lease / 3));
  wcfg.down_limit = seconds(cfg, "streams.db_down_limit_s", 1);
  wcfg.metrics = &stats;
  auto writer = sys.spawn<caf::detached>(actors::stream_writer, wcfg);

  actors::message_actor_config mcfg;
  mcfg.flush_interval = std::chrono::milliseconds(cfg.integer("streams.flush_interval_ms", 1, 60000));
  mcfg.idle_timeout = seconds(cfg, "streams.idle_timeout_s", 1);
  mcfg.retention = seconds(cfg, "streams.retention_s", 0);
  mcfg.max_replay_bytes = static_cast<std::size_t>(cfg.integer("streams.max_replay_bytes", 0, INT32_MAX));
  mcfg.metrics = &stats;
  actors::provider_config pcfg;
  pcfg.name = cfg.str("provider.name");
  pcfg.scripted.default_rate = static_cast<double>(cfg.integer("provider.scripted_rate", 1, 100000));
  pcfg.scripted.default_chunks = static_cast<int>(cfg.integer("provider.scripted_chunks", 0, 1000000));
  auto launcher = actors::make_job_launcher(pcfg);
  if (provider_io) {
    actors::openai_config ocfg;
    ocfg.base_url = cfg.str("provider.openai_base_url");
    ocfg.api_key = cfg.str("provider.openai_api_key");
    ocfg.model = cfg.str("provider.openai_model");
    auto ms = [&](const std::string& key) {
      return std::chrono::milliseconds(cfg.integer(key, 1, 86400) * 1000);
    };
    ocfg.connect_timeout = ms("provider.openai_connect_timeout_s");
    ocfg.first_token_timeout = ms("provider.openai_first_token_timeout_s");
    ocfg.idle_timeout = ms("provider.openai_idle_timeout_s");
    ocfg.total_timeout = ms("provider.openai_total_timeout_s");
    ocfg.max_retries = static_cast<int>(cfg.integer("provider.openai_max_retries", 0, 20));
    ocfg.backoff_initial = std::chrono::milliseconds(cfg.integer("provider.openai_backoff_ms", 1, 600000));
    ocfg.metrics = &stats;
    launcher = actors::make_openai_launcher(ocfg, provider_io.get());
  }
  auto directory = sys.spawn(actors::directory, mcfg, writer, launcher);
  caf::anon_send(writer, caf::put_atom::value, directory);
  caf::actor cluster;
  if (clustered) {
    actors::cluster_config ccfg;
    ccfg.node = node;
    for (auto& [host, port] : peers)
      ccfg.peers.push_back({host, port});
    ccfg.middleman = sys.middleman().actor_handle();
    ccfg.metrics = &stats;
    cluster = sys.spawn(actors::cluster, ccfg);
    caf::anon_send(cluster, caf::put_atom::value, directory);
    caf::anon_send(directory, caf::put_atom::value, cluster);
    if (cluster_port != 0) {
      auto published = sys.middleman().publish(cluster, cluster_port, cluster_host.c_str(), true);
      if (!published) {
        log::error("cluster", "bind_failed", {{"address", cluster_host + ":" + std::to_string(cluster_port)},
                                              {"error", sys.render(published.error())}});
        caf::anon_send_exit(cluster, caf::exit_reason::user_shutdown);
        caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
        caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
        return 1;
      }
    }
    log::info("cluster", "joined", {{"node", node}, {"bind", cluster_host + ":" + std::to_string(cluster_port)},
                                     {"peers", peers.size()}});
  }

  persistence::pg_pool pool(conninfo, static_cast<std::size_t>(cfg.integer("database.pool_size", 1, 1000)));
  net::api_settings asettings;
  asettings.secret = secret;
  asettings.node = node;
  asettings.lease_seconds = lease;
  asettings.history_budget_chars =
    static_cast<std::size_t>(cfg.integer("streams.history_budget_chars", 0, INT32_MAX));
  asettings.limits.concurrent = static_cast<int>(cfg.integer("limits.answers_concurrent", 0, 1000000));
  asettings.limits.per_minute = static_cast<int>(cfg.integer("limits.answers_per_minute", 0, 1000000));
  asettings.metrics = &stats;
  net::api http_api(pool, directory, asettings);

  net::server_config scfg;
  std::tie(scfg.host, scfg.port) = cfg.bind();
  scfg.io_threads = static_cast<std::size_t>(cfg.integer("server.io_threads", 1, 64));
  scfg.db_threads = static_cast<std::size_t>(cfg.integer("server.db_threads", 1, 256));
  scfg.max_frame_bytes = static_cast<std::size_t>(cfg.integer("server.max_frame_bytes", 1024, INT32_MAX));
  scfg.max_body_bytes = static_cast<std::size_t>(cfg.integer("server.max_body_bytes", 1024, INT32_MAX));
  scfg.write_queue_limit = static_cast<std::size_t>(cfg.integer("server.write_queue_limit_bytes", 1024, INT32_MAX));
  scfg.ping_interval = seconds(cfg, "server.ping_interval_s", 1);
  scfg.header_timeout = seconds(cfg, "server.header_timeout_s", 1);
  scfg.connections_per_user = static_cast<std::size_t>(cfg.integer("limits.connections", 0, 1000000));
  scfg.max_subscriptions = static_cast<std::size_t>(cfg.integer("server.max_subscriptions", 1, 100000));
  scfg.subscribe_rate = static_cast<double>(cfg.integer("server.subscribe_rate", 1, 1000000));
  scfg.subscribe_burst = static_cast<double>(cfg.integer("server.subscribe_burst", 1, 1000000));
  scfg.access_changes = sys.groups().get_local("actorcable.access");
  auto sessions = sys.spawn(net::session_store, caf::timespan{seconds(cfg, "server.session_ttl_s", 1)});
  scfg.sessions = sessions;
  auto listener = sys.spawn<caf::detached>(
    actors::access_listener, actors::listener_config{conninfo, scfg.access_changes});
  scfg.secret = secret;
  scfg.database_up = &stats.db_up;
  scfg.web_root = cfg.str("server.web_root");
  net::server srv(sys, scfg, http_api, pool, directory, stats);
  auto port = srv.start();
  log::info("server", "listening",
            {{"address", scfg.host + ":" + std::to_string(port)}, {"port", port}, {"node", node},
             {"provider", pcfg.name}});

  int sig = 0;
  sigwait(&signals, &sig);
  log::info("server", "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                                   {"streaming", stats.active_streams.load()}});
  srv.begin_shutdown();
  drain(sys, stats, directory, writer, seconds(cfg, "server.drain_s", 0));
  srv.stop();
  caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
  if (cluster)
    caf::anon_send_exit(cluster, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sessions, caf::exit_reason::user_shutdown);
  log::info("server", "stopped");
  return 0;
}

}  // namespace actorcable::app

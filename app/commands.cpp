#include "app/commands.hpp"

#include "app/memory_trim.hpp"
#include "app/settings.hpp"

#include "actors/errors.hpp"
#include "actors/broadcast/hub.hpp"
#include "actors/store/db_listener.hpp"
#include "actors/provider/launcher.hpp"
#include "actors/cluster/cluster.hpp"
#include "actors/cluster/membership.hpp"
#include "actors/stream/directory.hpp"
#include "actors/store/stream_writer.hpp"
#include "common/log.hpp"
#include "model/obfuscated_id.hpp"
#include "net/api/api.hpp"
#include "net/auth/jwt.hpp"
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
#include <caf/openssl/all.hpp>

#include <chrono>
#include <filesystem>
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

// Lets running answers finish for `drain_time`, then ends the rest as interrupted, and waits for
// every final write. Polls a gauge: the actors it waits for have no handle to tell it.
void drain(caf::actor_system& sys, const metrics& stats, const actors::directory_actor& directory,
           const actors::stream_writer_actor& writer, std::chrono::seconds drain_time) {
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
  self->request(writer, std::chrono::seconds(10), actors::sync_atom::value)
    .receive([](std::int64_t, std::int64_t) {},
             [](caf::error& err) {
               log::error("server", "final_flush_failed", {{"error", caf::to_string(err)}});
             });
}

// SPEC §12: with live peers, every streaming answer is handed to one of them (which continues
// it) instead of being drained; without, the drain below is what happens.
void hand_over(caf::actor_system& sys, const caf::actor& cluster, const actors::directory_actor& directory,
               const actors::stream_writer_actor& writer) {
  caf::scoped_actor self{sys};
  std::vector<std::string> peers;
  self->request(cluster, std::chrono::seconds(5), caf::get_atom::value)
    .receive([&](std::vector<std::string>& names) { peers = std::move(names); },
             [](caf::error&) {});
  if (peers.empty())
    return;
  // The writer takes nothing from here on: not even the rows this node releases now.
  caf::anon_send(writer, caf::put_atom::value, caf::actor{});
  self->request(directory, std::chrono::seconds(45), actors::handover_atom::value)
    .receive(
      [&](std::vector<std::int64_t>& ids) {
        log::info("server", "streams_handed_over", {{"streams", ids.size()}, {"peers", peers.size()}});
      },
      [](caf::error& err) {
        log::error("server", "handover_failed", {{"error", caf::to_string(err)}});
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

int run_cluster_certs(const std::string& dir, const std::vector<std::string>& nodes) {
  make_cluster_certs(dir, nodes);
  auto abs = std::filesystem::absolute(dir).lexically_normal().string();
  std::cout << "Cluster CA: " << abs << "/ca.pem (its key " << abs
            << "/ca.key signs new nodes: keep it off the nodes)\n";
  for (auto& n : nodes)
    std::cout << "\nnode " << n << ": in its [cluster] section\n"
              << "  tls_cert = " << abs << "/" << n << ".pem\n"
              << "  tls_key = " << abs << "/" << n << ".key\n"
              << "  tls_ca = " << abs << "/ca.pem\n"
              << "or in its environment\n"
              << "  ACTORCABLE_CLUSTER_TLS_CERT=" << abs << "/" << n << ".pem\n"
              << "  ACTORCABLE_CLUSTER_TLS_KEY=" << abs << "/" << n << ".key\n"
              << "  ACTORCABLE_CLUSTER_TLS_CA=" << abs << "/ca.pem\n";
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

// Spawns this node's cluster member, publishes it on cluster.bind (port 0: a free one) and, when
// published, registers it in the membership table. An invalid handle when the bind fails.
caf::actor start_cluster(caf::actor_system& sys, const serve_settings& settings,
                         const actors::directory_actor& directory, const actors::broadcast_hub_actor& hub, metrics& stats,
                         actors::membership_actor& members) {
  actors::cluster_config ccfg;
  ccfg.node = settings.node;
  ccfg.hub = hub;
  ccfg.peers = settings.peers;
  bool tls = settings.cluster_tls.enabled();
  ccfg.middleman = tls ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
  ccfg.metrics = &stats;
  ccfg.takeover_wait = settings.takeover_wait;
  auto cluster = sys.spawn(actors::cluster, ccfg);
  caf::anon_send(cluster, caf::put_atom::value, caf::actor_cast<caf::actor>(directory));
  caf::anon_send(directory, caf::put_atom::value, cluster);
  std::string address;
  if (!settings.cluster_host.empty()) {
    auto bind = settings.cluster_host + ":" + std::to_string(settings.cluster_port);
    auto published = tls ? caf::openssl::publish(cluster, settings.cluster_port,
                                                 settings.cluster_host.c_str(), true)
                         : sys.middleman().publish(cluster, settings.cluster_port,
                                                   settings.cluster_host.c_str(), true);
    if (!published) {
      log::error("cluster", "bind_failed", {{"address", bind}, {"error", sys.render(published.error())}});
      caf::anon_send_exit(cluster, caf::exit_reason::user_shutdown);
      return {};
    }
    address = settings.cluster_advertise + ":" + std::to_string(*published);
    actors::membership_config mcfg{settings.conninfo, settings.node, address, settings.lease_seconds,
                                   settings.membership_interval, cluster};
    members = sys.spawn<caf::detached>(actors::membership, mcfg);
  }
  log::info("cluster", "joined", {{"node", settings.node}, {"address", address},
                                  {"peers", settings.peers.size()}, {"tls", tls}});
  return cluster;
}

int run_serve(const config& cfg) {
  auto settings = read_serve_settings(cfg);
  if (settings.clustered() && settings.cluster_tls.enabled())
    if (auto bad = check_cluster_tls(settings.cluster_tls))
      throw config_error(*bad);
  require_database(cfg);
  require_secret(cfg);
  const auto& node = settings.node;
  {
    persistence::pg_connection conn(settings.conninfo);
    persistence::migrate(conn);
    // Before listening: rows this node owned in its previous life are nobody's now. A client
    // that resubscribes finds them closed (interrupted), never streaming forever. With
    // streams.continue they are continued instead (below), once the actors are up.
    if (!settings.writer.continue_streams)
      for (auto id : persistence::close_orphans(conn, node, true))
        log::warn("server", "orphan_stream_closed", {{"message_id", id}, {"node", node}});
  }
  configure_allocator();
  // Signals are taken by sigwait below; every thread started from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Outlives the actor system: provider actors hand it their connections until they are gone.
  std::unique_ptr<actors::provider_io> provider_io;
  if (settings.provider.any_http())
    provider_io = std::make_unique<actors::provider_io>();

  caf::actor_system_config caf_cfg;
  actors::add_error_category(caf_cfg);
  if (settings.clustered()) {
    caf_cfg.load<caf::io::middleman>();
    if (auto& tls = settings.cluster_tls; tls.enabled()) {
      // Mutual TLS (SPEC §17): a peer without a certificate of tls_ca is refused in the TLS
      // handshake, before CAF's own protocol reads a byte.
      caf_cfg.load<caf::openssl::manager>();
      caf_cfg.openssl_certificate = tls.cert;
      caf_cfg.openssl_key = tls.key;
      caf_cfg.openssl_cafile = tls.ca;
    } else {
      log::warn("cluster", "no_tls", {{"node", node}, {"bind", settings.cluster_host},
                                      {"detail", "plain TCP on loopback: set cluster.tls_* off this machine"}});
    }
    // A peer that stops answering (paused, cut off) is taken as lost after 5 s; its relays here
    // end their streams as interrupted, and its rows are closed once its lease runs out.
    caf_cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(1)});
    caf_cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(5)});
    // What crosses between nodes.
    caf_cfg.add_message_type<actors::stream_event_ptr>("actorcable::stream_event");
    caf_cfg.add_message_type<actors::catchup>("actorcable::catchup");
    caf_cfg.add_message_type<actors::stream_info>("actorcable::stream_info");
    caf_cfg.add_message_type<std::vector<std::int64_t>>("std::vector<int64_t>");
  }
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf_cfg.set("scheduler.max-threads", 2);
  caf_cfg.set("logger.file-verbosity", caf::atom("quiet"));
  caf_cfg.set("logger.console-verbosity", caf::atom("quiet"));
  caf::actor_system sys{caf_cfg};
  metrics stats;

  settings.writer.metrics = &stats;
  auto writer = sys.spawn<caf::detached>(actors::stream_writer, settings.writer);
  settings.streams.metrics = &stats;
  settings.provider.openai.metrics = &stats;
  for (auto& np : settings.provider.providers)
    np.http.metrics = &stats;
  auto launcher = actors::make_job_launcher(settings.provider, provider_io.get());
  auto directory = sys.spawn(actors::directory, settings.streams, writer, launcher);
  caf::anon_send(writer, caf::put_atom::value, caf::actor_cast<caf::actor>(directory));
  // With an argument: CAF 0.17 dereferences the null argument tuple of an actor spawned without
  // one, which UBSan reports (and cannot suppress in a process out of descriptors).
  auto hub = sys.spawn(actors::broadcast_hub, &stats);
  caf::actor cluster;
  actors::membership_actor members;
  if (settings.clustered()) {
    cluster = start_cluster(sys, settings, directory, hub, stats, members);
    if (!cluster) {
      caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
      return 1;
    }
    caf::anon_send(hub, caf::put_atom::value, cluster);
  }

  if (settings.writer.continue_streams) {
    // Before listening, so that no answer of this life can be taken for one of the last.
    caf::scoped_actor self{sys};
    self->request(writer, std::chrono::seconds(30), actors::adopt_atom::value)
      .receive([&](std::int64_t taken) {
                 if (taken > 0)
                   log::info("server", "orphans_continued", {{"streams", taken}, {"node", node}});
               },
               [&](caf::error& err) {
                 log::error("server", "orphans_not_continued", {{"error", caf::to_string(err)}});
               });
  }

  persistence::pg_pool pool(settings.conninfo, settings.pool_size);
  settings.api.metrics = &stats;
  net::api http_api(pool, directory, settings.api);

  auto& scfg = settings.server;
  scfg.access_changes = sys.groups().get_local("actorcable.access");
  auto trimmer = sys.spawn(memory_trimmer, &stats, caf::timespan{std::chrono::seconds(5)});
  auto sessions = sys.spawn(net::session_store, settings.session_ttl, settings.session_limits, &stats);
  scfg.sessions = sessions;
  scfg.broadcasts = hub;
  auto listener = sys.spawn<caf::detached>(
    actors::db_listener, actors::listener_config{settings.conninfo, scfg.access_changes, hub});
  scfg.database_up = &stats.db_up;
  net::server srv(sys, scfg, http_api, pool, directory, stats);
  auto port = srv.start();
  log::info("server", "listening",
            {{"address", scfg.host + ":" + std::to_string(port)}, {"port", port}, {"node", node},
             {"provider", settings.provider.name}});

  int sig = 0;
  sigwait(&signals, &sig);
  log::info("server", "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                                   {"streaming", stats.active_streams.load()}});
  srv.begin_shutdown();
  if (settings.writer.continue_streams && cluster)
    hand_over(sys, cluster, directory, writer);
  drain(sys, stats, directory, writer, settings.drain);
  srv.stop();
  if (members) {  // retired: peers stop dialing it now, not at the end of its lease
    caf::scoped_actor self{sys};
    self->request(members, std::chrono::seconds(3), actors::leave_atom::value)
      .receive([](bool) {}, [](caf::error&) {});
  }
  caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
  if (cluster)
    caf::anon_send_exit(cluster, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sessions, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(trimmer, caf::exit_reason::user_shutdown);
  log::info("server", "stopped");
  return 0;
}

}  // namespace actorcable::app

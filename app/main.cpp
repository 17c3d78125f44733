// actorcable: streams AI answers token by token to ActionCable clients (see README.md).
#include "app/commands.hpp"
#include "common/log.hpp"
#include "persistence/pg/pg_connection.hpp"

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char* usage = R"(usage: actorcable [--config FILE] COMMAND

Commands:
  serve               run the HTTP + WebSocket server (migrates the database first)
  migrate             apply pending database migrations
  token --email E     create user E (and a personal account) if absent; print a JWT for it
  seed --email E      make sure E has a user, an account and a chat; print the chat id
  config              print the effective configuration (secrets masked)
  cluster-certs DIR [NODE...]
                      make a cluster CA in DIR (kept if there) and a key and certificate per
                      node for the cluster's mutual TLS; print the settings to use
  --help              this text
  --version           the version

Configuration: conf/actorcable.ini (or --config FILE), overridden by the environment:
DATABASE_URL, ACTORCABLE_BIND, ACTORCABLE_SECRET, ACTORCABLE_NODE_NAME, ACTORCABLE_IDLE_TIMEOUT_S,
ACTORCABLE_CLUSTER_BIND, ACTORCABLE_CLUSTER_TLS_CERT, ACTORCABLE_CLUSTER_TLS_KEY,
ACTORCABLE_CLUSTER_TLS_CA, AI_PROVIDER, OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL,
ACTORCABLE_WEB_ROOT (every key: conf/actorcable.ini).
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace actorcable;
  std::vector<std::string> args(argv + 1, argv + argc);
  setenv("PGCONNECT_TIMEOUT", "5", 0);  // libpq waits forever for an unreachable host otherwise
  std::string config_path, command, email;
  std::vector<std::string> operands;  // cluster-certs DIR NODE...
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      return 0;
    }
    if (a == "--version") {
      std::cout << "actorcable " << ACTORCABLE_VERSION << std::endl;
      return 0;
    }
    if ((a == "--config" || a == "--email") && i + 1 < args.size()) {
      (a == "--config" ? config_path : email) = args[++i];
    } else if (command.empty() && !a.empty() && a[0] != '-') {
      command = a;
    } else if (command == "cluster-certs" && !a.empty() && a[0] != '-') {
      operands.push_back(a);
    } else {
      std::cerr << "actorcable: unexpected argument '" << a << "'\n" << usage;
      return 2;
    }
  }
  try {
    if (command == "cluster-certs") {
      if (operands.empty()) {
        std::cerr << "actorcable: cluster-certs needs DIR\n" << usage;
        return 2;
      }
      return app::run_cluster_certs(operands[0], {operands.begin() + 1, operands.end()});
    }
    auto cfg = app::config::load(config_path);
    if (command == "serve")
      return app::run_serve(cfg);
    if (command == "migrate")
      return app::run_migrate(cfg);
    if (command == "config") {
      std::cout << cfg.describe();
      return 0;
    }
    if ((command == "token" || command == "seed") && email.empty()) {
      std::cerr << "actorcable: " << command << " needs --email E\n";
      return 2;
    }
    if (command == "token")
      return app::run_token(cfg, email);
    if (command == "seed")
      return app::run_seed(cfg, email);
    std::cerr << (command.empty() ? "actorcable: no command given\n"
                                  : "actorcable: unknown command '" + command + "'\n")
              << usage;
    return 2;
  } catch (const app::config_error& e) {
    std::cerr << "actorcable: configuration error: " << e.what() << std::endl;
    return 2;
  } catch (const persistence::pg_error& e) {
    log::error("main", "database_error", {{"command", command}, {"error", e.what()}});
    return 1;
  } catch (const std::exception& e) {
    log::error("main", "failed", {{"command", command}, {"error", e.what()}});
    return 1;
  }
}

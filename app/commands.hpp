// The subcommands of the `actorcable` binary (SPEC §1).
#pragma once
#include "app/config.hpp"

#include <string>
#include <vector>

namespace actorcable::app {

int run_serve(const config& cfg);
int run_migrate(const config& cfg);
int run_token(const config& cfg, const std::string& email);
// Makes sure `email` has a user, an account and at least one chat; prints the chat's id.
int run_seed(const config& cfg, const std::string& email);
// SPEC §17: a cluster CA in `dir` and a key and certificate per node; prints the settings.
int run_cluster_certs(const std::string& dir, const std::vector<std::string>& nodes);

}  // namespace actorcable::app

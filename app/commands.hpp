// The subcommands of the `actorcable` binary (SPEC §1).
#pragma once
#include "app/config.hpp"

#include <string>

namespace actorcable::app {

int run_serve(const config& cfg);
int run_migrate(const config& cfg);
int run_token(const config& cfg, const std::string& email);
// Makes sure `email` has a user, an account and at least one chat; prints the chat's id.
int run_seed(const config& cfg, const std::string& email);

}  // namespace actorcable::app

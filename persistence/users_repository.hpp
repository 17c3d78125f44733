// Users, their personal accounts and memberships.
#pragma once
#include "model/entities.hpp"
#include "persistence/pg/pg_connection.hpp"

#include <optional>
#include <string_view>

namespace actorcable::persistence {

// Finds the user by email, or creates it with a personal account it owns (confirmed membership).
model::user ensure_user_with_account(pg_connection& conn, std::string_view email);

std::optional<model::user> find_user(pg_connection& conn, std::int64_t id);

// The user's first confirmed account (their personal one), if any.
std::optional<std::int64_t> default_account_id(pg_connection& conn, std::int64_t user_id);

// Adds (or updates) a membership; `confirmed` false leaves it pending.
void add_membership(pg_connection& conn, std::int64_t account_id, std::int64_t user_id,
                    std::string_view role, bool confirmed);
void remove_membership(pg_connection& conn, std::int64_t account_id, std::int64_t user_id);

}  // namespace actorcable::persistence

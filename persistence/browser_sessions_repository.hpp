// The page's sign-in sessions (SPEC §17), by the SHA-256 of the id the cookie carries.
#pragma once
#include "persistence/pg/pg_connection.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace actorcable::persistence {

// Stores a session of `user_id` until `expires_at` (unix seconds); the user's expired ones go.
void create_browser_session(pg_connection& conn, std::string_view digest, std::int64_t user_id,
                            std::int64_t expires_at);

// The user of an unexpired session, none when it is unknown, expired or signed out.
std::optional<std::int64_t> browser_session_user(pg_connection& conn, std::string_view digest);

// Signs the session out; false when there was none.
bool delete_browser_session(pg_connection& conn, std::string_view digest);

}  // namespace actorcable::persistence

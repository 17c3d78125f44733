// The page's sign-in and sign-out (SPEC §13, §17): a JWT becomes a server-side session whose random
// id the cookie carries; signing out deletes the session, so its cookie is refused on every node
// at once. Both block on PostgreSQL.
#pragma once
#include "net/api/api.hpp"
#include "persistence/pg/pg_pool.hpp"

#include <string>
#include <string_view>

namespace actorcable::net {

// `/?token=<jwt>`: a valid token makes a session and redirects to `/` with its cookie; an invalid
// one clears the cookie.
http_reply sign_in(persistence::pg_pool& pool, std::string_view secret, std::string_view token);

// POST /signout: deletes the cookie's session and clears the cookie.
http_reply sign_out(persistence::pg_pool& pool, std::string_view session_id);

// What a sign-in link opened from another site gets instead of a new session: a page that asks
// whether to continue (its link is the same address, opened from this site).
std::string continue_sign_in_page(std::string_view token);

}  // namespace actorcable::net

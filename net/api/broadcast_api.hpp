// POST /_broadcast (SPEC §11), in AnyCable's HTTP broadcaster format so that its Rails adapter
// can point here: {"stream":"<name>","data":"<JSON text>"} or an array of those.
#pragma once
#include "net/api/api.hpp"

#include <string>
#include <variant>
#include <vector>

namespace actorcable::net {

struct broadcasts {
  std::vector<std::string> streams;
  std::vector<std::string> messages;  // each `data`, checked and written compactly
};

// The request's broadcasts, or the reply that refuses all of them (nothing is sent when one
// is malformed). `meta` (AnyCable's delivery options) is accepted and not used.
std::variant<broadcasts, http_reply> parse_broadcasts(std::string_view body);

}  // namespace actorcable::net

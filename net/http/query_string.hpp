// Reading one parameter of a URL's query string (percent-decoded).
#pragma once
#include <string>
#include <string_view>

namespace actorcable::net {

std::string query_param(std::string_view target, std::string_view name);
std::string_view path_of(std::string_view target);

}  // namespace actorcable::net

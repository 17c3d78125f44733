// JSON representations of chats and messages for the HTTP API (ids obfuscated).
#pragma once
#include "model/entities.hpp"

#include <boost/json/object.hpp>

namespace actorcable::net {

boost::json::object chat_json(const model::chat& c);
boost::json::object message_json(const model::message& m);

}  // namespace actorcable::net

// One actor per WebSocket connection: the ActionCable protocol between a client and the
// message and chat actors it subscribes to (SPEC §5), with AnyCable's extended protocol
// (offsets, history, session restore) when the client speaks actioncable-v1-ext-json.
#pragma once
#include "actors/protocol.hpp"
#include "actors/broadcast/hub.hpp"
#include "actors/stream/directory_actor.hpp"
#include "common/metrics.hpp"
#include "net/cable/bridge_store.hpp"
#include "net/cable/cable_protocol.hpp"
#include "net/cable/cable_socket.hpp"
#include "net/cable/command_budget.hpp"
#include "net/cable/session_store.hpp"

#include <list>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>

namespace actorcable::net {

using text_atom = caf::atom_constant<caf::atom("text")>;      // socket -> bridge: a text frame
using closed_atom = caf::atom_constant<caf::atom("closed")>;  // socket -> bridge: gone
using authz_atom = caf::atom_constant<caf::atom("authz")>;    // (authz_atom, authz_result)
using row_atom = caf::atom_constant<caf::atom("row")>;        // (row_atom, stored_row)
using unhold_atom = caf::atom_constant<caf::atom("unhold")>;  // restored route's wait is over
using restored_atom = caf::atom_constant<caf::atom("restored")>;  // (restored_atom, snapshot): re-checked

// A subscribe's access check, done off the actor threads, back to the bridge.
struct authz_result {
  std::string identifier;
  bool allowed = false;
  std::int64_t account_id = 0;
  std::int64_t chat_id = 0;
  std::optional<history_request> history;  // as the subscribe asked
};

// The row of a message no actor streams any more (ended, or its node died), read for a route.
struct stored_row {
  std::string identifier;
  std::int64_t message_id = 0;
  std::string content{};
  std::string thinking{};
  std::string tool_status{};  // the running call's summary; empty: none
  bool streaming = false;
  std::string status{};       // stream_status as stored; empty while streaming
  bool with_state = false;  // send current_state before the end
  actors::job_result usage{};  // as stored: the model that answered, its token counts
};

// Local messages only (the bridge to itself): the history request is not serialised.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, authz_result& x) {
  return f(caf::meta::type_name("authz_result"), x.identifier, x.allowed, x.account_id, x.chat_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stored_row& x) {
  return f(caf::meta::type_name("stored_row"), x.identifier, x.message_id, x.content, x.thinking,
           x.tool_status, x.streaming,
           x.status, x.with_state);
}

struct bridge_config {
  actors::directory_actor directory;
  session_store_actor sessions;  // extended protocol
  caf::group access_changes;  // revocations from the database
  actors::broadcast_hub_actor broadcasts;  // this node's broadcast hub; none: named streams are not heard
  std::shared_ptr<const bridge_store> store;  // its database lookups
  // Runs blocking work (the store's lookups) off the actor threads.
  std::function<void(std::function<void()>)> run_blocking;
  std::int64_t user_id = 0;
  bool extended = false;  // actioncable-v1-ext-json
  std::string sid;          // this connection's session id (extended protocol)
  std::string restore_sid;  // the session a reconnecting client asks to restore
  std::size_t max_subscriptions = 256;     // per connection (0: none)
  std::size_t max_identifier_bytes = 1024;  // (0: none)
  double subscribe_rate = 50;  // subscribe commands per second, sustained
  double subscribe_burst = 100;
  std::string connection_id;
  actorcable::metrics* metrics = nullptr;
};

struct subscription {
  channel_target target;
  std::string stream;  // its stream name for broadcasts (target.stream_name())
  std::int64_t account_id = 0;  // where access comes from: revoked with the membership
  std::int64_t chat_id = 0;
  std::optional<history_request> history;  // the latest one asked for this identifier
  int catchups_pending = 0;   // history being served: confirm_history when this reaches 0
  bool history_failed = false;
};

// One identifier receiving one message stream.
struct route {
  std::string identifier;
  bool live = false;      // takes live events
  std::uint64_t tag = 0;  // the catch-up in flight: its events carry this tag
};

struct stream_link {
  std::vector<route> routes;
  caf::actor actor;  // monitored once known
};

struct bridge_state {
  static inline const char* name = "cable_bridge";
  bridge_config cfg;
  std::shared_ptr<cable_socket> socket;
  std::map<std::string, subscription> subs;  // confirmed, by identifier
  std::unordered_map<std::int64_t, stream_link> streams;  // by message id
  std::unordered_map<std::int64_t, std::vector<std::string>> chat_routes;  // chat id -> identifiers
  // Commands wait while a lookup is in flight: order is kept. A list, not a deque: an empty
  // deque already holds a 512-byte block, paid by every idle connection.
  std::list<cable_command> pending;
  bool busy = true;  // until the welcome is sent
  std::uint64_t next_tag = 0;
  std::optional<command_budget> budget;  // rate limits and rejected commands
};

using bridge_ptr = caf::stateful_actor<bridge_state>*;

caf::behavior cable_bridge(bridge_ptr self, std::shared_ptr<cable_socket> socket,
                           bridge_config cfg);

// --- subscriptions of a bridge (bridge_subscriptions.cpp) ------------------------------------
// In these functions `cfg` is always the bridge's own (self->state.cfg): a callback that outlives
// the call captures it by reference.

void count_subscriptions(const bridge_config& cfg, std::int64_t delta);

// Registers a subscription and, unless `restored` (from a session), confirms it.
void add_subscription(bridge_ptr self, const bridge_config& cfg, const std::string& identifier,
                      std::int64_t account_id, std::int64_t chat_id,
                      std::optional<history_request> history, bool restored);
void drop_subscription(bridge_ptr self, const bridge_config& cfg, const std::string& identifier);

// A history request for an existing subscription: every stream it follows catches up.
void serve_history(bridge_ptr self, const bridge_config& cfg, const std::string& identifier,
                   history_request history);

// A message subscription whose row streams with no actor yet follows its chat's stream starts.
void await_stream(bridge_ptr self, const bridge_config& cfg, const std::string& identifier);

// `identifier` no longer hears of the chat's streams.
void leave_chat_route(bridge_ptr self, const bridge_config& cfg, std::int64_t chat_id,
                      const std::string& identifier);

// --- message streams of a bridge (bridge_streams.cpp) ----------------------------------------

void send_text(bridge_ptr self, std::string text);

// Routes `identifier` to message `mid` and catches it up as `how` says (from `known` if given,
// else through the directory). With a history request in flight on the identifier, its end
// answers confirm_history or reject_history.
void catch_up(bridge_ptr self, const bridge_config& cfg, std::int64_t mid,
              const std::string& identifier, actors::catchup how, const caf::actor& known = {});

// The catch-up an identifier gets for message `mid`: a replay from its history position, the
// whole state for a history without one, else current_state when streaming.
actors::catchup catchup_for(const subscription& sub, std::int64_t mid, bool extended);

void remove_route(bridge_ptr self, std::int64_t mid, const std::string& identifier);
void forward(bridge_ptr self, const bridge_config& cfg, const actors::stream_event_ptr& ev,
             std::uint64_t tag = 0);
void history_step_done(bridge_ptr self, const std::string& identifier);

}  // namespace actorcable::net

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorcable::net::history_request)

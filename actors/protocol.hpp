// Every message the actors exchange, declared once. Predefined CAF atoms are reused where their
// names fit (caf::subscribe_atom, caf::unsubscribe_atom, caf::flush_atom, caf::tick_atom, ...).
#pragma once
#include "model/entities.hpp"
#include "model/stream_status.hpp"

#include <caf/all.hpp>

#include <chrono>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace actorcable::actors {

// job -> message actor: (chunk_atom, text), (thinking_atom, text), (tool_atom, tool_call)
using chunk_atom = caf::atom_constant<caf::atom("chunk")>;
using thinking_atom = caf::atom_constant<caf::atom("thinking")>;
using tool_atom = caf::atom_constant<caf::atom("tool")>;
// job -> message actor: (alive_atom) no part, but the producer is there (an ingest keep-alive)
using alive_atom = caf::atom_constant<caf::atom("alive")>;
using job_done_atom = caf::atom_constant<caf::atom("job_done")>;
// directory / message actor commands
using start_atom = caf::atom_constant<caf::atom("start")>;  // start a message's stream
// a stream started: (stream_started_atom, ...) tells a chat actor or the cluster about it
using stream_started_atom = caf::atom_constant<caf::atom("strm_start")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
// (await_end_atom, bool cancel) -> string: the final text, once the end is stored (cancelling
// the stream first with `cancel`); through the directory (await_end_atom, int64 id, bool cancel)
using await_end_atom = caf::atom_constant<caf::atom("await_end")>;
using idle_atom = caf::atom_constant<caf::atom("idle_chk")>;
using end_atom = caf::atom_constant<caf::atom("end_now")>;  // (end_atom, stream_status, reason, bool)
// (outcome_atom) -> (stream_status, int64 content bytes, int64 parts), once the end is stored;
// through the directory (outcome_atom, int64 id)
using outcome_atom = caf::atom_constant<caf::atom("outcome")>;
// (ingest_atom, job_spec with a producer) -> bool: the message's stream with an outside
// producer as its job (SPEC §11); false when the message already has a stream on this node
using ingest_atom = caf::atom_constant<caf::atom("ingest")>;
using retire_atom = caf::atom_constant<caf::atom("retire")>;
// message actor -> subscribers
using frame_atom = caf::atom_constant<caf::atom("frame")>;
// chat actor -> subscribers: a stream of the chat (message id, its actor)
using chat_stream_atom = caf::atom_constant<caf::atom("chat_strm")>;
// access listener -> bridges (through a group): something was revoked
using access_atom = caf::atom_constant<caf::atom("access")>;
// Broadcasts (SPEC §11), named streams with no offsets and no history. To the hub:
// (publish_atom, streams, messages) from this node's API, also sent to every other node;
// (broadcast_atom, streams, messages) for this node only (from a peer, or the database's sync
// signals), two vector<string> of the same length. To a listener: (broadcast_atom, stream, message).
using broadcast_atom = caf::atom_constant<caf::atom("broadcast")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
// cluster: nodes introduce themselves, look for a message's actor, learn a stream's identity
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using find_atom = caf::atom_constant<caf::atom("find")>;
using info_atom = caf::atom_constant<caf::atom("info")>;
using relay_atom = caf::atom_constant<caf::atom("relay")>;
// membership -> cluster: (members_atom, vector<string> names, vector<string> addresses, bool
// complete), the live nodes read from PostgreSQL (complete: this node had the database for a
// full lease, so a node missing from them is gone; else they only add); (leave_atom) -> bool:
// remove this node's row, then stop
using members_atom = caf::atom_constant<caf::atom("members")>;
using leave_atom = caf::atom_constant<caf::atom("leave")>;

// Answers outlive their process (SPEC §12):
// writer -> directory: (continue_atom, job_spec with `resumed`) a row this node took over;
// app -> directory: (handover_atom) -> vector<int64> ids: every local stream released for a
// peer; message actor: (handover_atom) -> bool; directory -> cluster: (handover_atom, ids);
// cluster -> a peer's cluster -> its directory -> its writer: (take_atom, ids) take them now;
// directory -> relay: (origin_atom, actor) the message's actor is this one now.
using continue_atom = caf::atom_constant<caf::atom("continue")>;
using handover_atom = caf::atom_constant<caf::atom("handover")>;
using take_atom = caf::atom_constant<caf::atom("take")>;
using origin_atom = caf::atom_constant<caf::atom("origin")>;
// writer -> message actor: (moved_atom) the row is another node's now (this node's lease ran out
// and that node continues the answer): the actor stops its job and quits with `stream_moved`,
// upon which its subscribers find the answer again where it went on.
using moved_atom = caf::atom_constant<caf::atom("moved")>;
constexpr auto stream_moved = caf::exit_reason::unreachable;

// One report of a tool call (SPEC §9): `status` is running, done or error.
struct tool_call {
  std::string call_id;
  std::string name;
  std::string status;
  std::string summary;  // one line for people
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_call& x) {
  return f(caf::meta::type_name("tool_call"), x.call_id, x.name, x.status, x.summary);
}

// What a job reports before it exits normally.
struct job_result {
  std::string model_id;
  std::optional<std::int64_t> input_tokens;
  std::optional<std::int64_t> output_tokens;
};

// What was stored of an answer when a node took it over (SPEC §12): its job continues from it.
struct resumed_answer {
  std::string text;
  std::string thinking;
  std::string tool_calls = "[]";  // JSON array of each call's last report
  std::int64_t continuations = 0;  // this one included
};

// What a provider needs to answer.
struct job_spec {
  std::int64_t message_id = 0;
  std::int64_t chat_id = 0;
  std::string question;                   // the user's message this answers
  std::vector<model::chat_turn> history;  // earlier turns, oldest first, `question` last
  // Answers of the chat still streaming when this one was asked (SPEC §9 on_busy): the job
  // starts once they have ended (cancelled first with `cancel_busy`), their final text in
  // `history`.
  std::vector<std::int64_t> busy{};
  bool cancel_busy = true;
  std::string model_id{};  // the chat's model (empty: the default model)
  // An outside producer's job (SPEC §11, actors/ingest): started as the job instead of a
  // provider, told its message actor with (start_atom, actor).
  caf::actor producer{};
  std::optional<resumed_answer> resumed{};  // set: a continued answer
};

// One event of a message stream, encoded once and shared by every subscriber.
struct stream_event {
  // update: text; thinking: reasoning; tool: a tool call's status (SPEC §9)
  enum class kind { update, end, state, refresh, thinking, tool };
  kind type = kind::update;
  std::int64_t message_id = 0;  // for kind::refresh: 0
  std::int64_t chat_id = 0;     // set for kind::refresh
  std::int64_t offset = 0;   // the last chunk this event includes (0: none)
  std::string message_json;  // the broadcast's "message" object
  std::string chunk;  // update, thinking: the chunk's text (slow clients get a run of one kind merged)
  std::string ext_fields;    // `,"stream_id":..,"epoch":..,"offset":n` for the extended protocol
  std::chrono::steady_clock::time_point emitted_at{};  // when the chunk reached its actor
  std::string oid;  // the message's obfuscated id
};
using stream_event_ptr = std::shared_ptr<const stream_event>;

// A committed change that takes access away (see the access_notifications migration).
struct access_change {
  enum class kind { membership, chat, message };
  kind what = kind::membership;
  std::int64_t account_id = 0;  // membership
  std::int64_t user_id = 0;     // membership
  std::int64_t chat_id = 0;     // chat, message
  std::int64_t message_id = 0;  // message
};

class tap_port;  // actors/delivery/stream_tap.hpp

// How a new subscriber catches up with a stream before it goes live (SPEC §5 history).
struct catchup {
  enum class mode : std::uint8_t {
    none,                // live from now on
    state_if_streaming,  // current_state if streaming, streaming_end if ended (plain protocol)
    state_always,        // current_state whatever the status, then streaming_end if it ended
    replay,              // the events after `after` of incarnation `epoch`, if still kept
  };
  mode how = mode::state_if_streaming;
  std::uint64_t tag = 0;  // catch-up events come as (frame_atom, event, tag); 0: (frame_atom, event)
  std::int64_t after = 0;
  std::string epoch;
  // Set by a connection on this node: a local message actor then attaches `identifier` to the
  // connection's tap (catch-up and live events through its I/O thread, no tagged messages).
  // Never crosses nodes.
  std::shared_ptr<tap_port> port;
  std::string identifier;
};

// What a stream's actor tells about itself (info_atom): to a relay on another node, which numbers
// an end of its own after `parts` and follows only a newer owner (`generation`), and to an
// outside producer's job, for which the answer means its parts were taken.
struct stream_info {
  std::string epoch;
  std::int64_t parts = 0;  // the offset of its last part
  bool ended = false;
  std::int64_t generation = 0;  // the row's continuations when this actor took the answer on
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_info& x) {
  return f(caf::meta::type_name("stream_info"), x.epoch, x.parts, x.ended, x.generation);
}

// Events and catch-up requests cross nodes (cluster): a remote subscriber gets a copy of the
// event; the emit time is local and not sent.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, catchup& x) {
  auto how = static_cast<std::uint8_t>(x.how);
  return f(caf::meta::type_name("catchup"), how, x.tag, x.after, x.epoch,
           caf::meta::load_callback([&]() -> caf::error {
             if (how > static_cast<std::uint8_t>(catchup::mode::replay))
               return caf::sec::invalid_argument;
             x.how = static_cast<catchup::mode>(how);
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_event_ptr& x) {
  if constexpr (Inspector::reads_state) {
    static const stream_event none;
    auto& ev = x ? *x : none;
    auto type = static_cast<std::uint8_t>(ev.type);
    return f(caf::meta::type_name("stream_event"), type, ev.message_id, ev.chat_id, ev.offset,
             ev.message_json, ev.chunk, ev.ext_fields, ev.oid);
  } else {
    auto ev = std::make_shared<stream_event>();
    std::uint8_t type = 0;
    auto result = f(caf::meta::type_name("stream_event"), type, ev->message_id, ev->chat_id,
                    ev->offset, ev->message_json, ev->chunk, ev->ext_fields, ev->oid);
    if (type > static_cast<std::uint8_t>(stream_event::kind::tool))
      return caf::sec::invalid_argument;
    ev->type = static_cast<stream_event::kind>(type);
    ev->emitted_at = std::chrono::steady_clock::now();
    x = std::move(ev);
    return result;
  }
}

// What a job (a provider, an outside producer) sends its message actor: the answer's parts,
// then its result before it exits normally.
using job_sink_actor = caf::typed_actor<
  caf::reacts_to<chunk_atom, std::string>,
  caf::reacts_to<thinking_atom, std::string>,
  caf::reacts_to<tool_atom, tool_call>,
  caf::reacts_to<alive_atom>,
  caf::reacts_to<job_done_atom, job_result>>;

// Sends to a dynamically typed actor (a subscriber, a job, the cluster) as `self`, which may be a
// typed actor: CAF 0.17's send() lets a typed actor address typed actors only.
template <class Self, class... Ts>
void tell(Self* self, const caf::actor& to, Ts&&... xs) {
  caf::unsafe_send_as(self, to, std::forward<Ts>(xs)...);
}

// Spawns the job that produces a message's answer, as a linked child of the message actor
// `parent`, to which it sends its parts (job_sink_actor).
using job_launcher = std::function<caf::actor(caf::local_actor* parent, const job_spec& spec)>;

}  // namespace actorcable::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorcable::actors::job_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorcable::actors::job_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorcable::actors::access_change)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorcable::model::stream_status)

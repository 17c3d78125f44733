// SyncChannel payloads of a message stream (SPEC §5), built once per event.
#pragma once
#include "actors/protocol.hpp"

#include <string_view>
#include <vector>

namespace actorcable::actors {

struct stream_identity {
  std::int64_t message_id;
  std::string oid;    // obfuscated id
  std::string epoch;  // this message actor's incarnation
};

stream_event_ptr make_update_event(const stream_identity& who, std::int64_t offset,
                                   std::string_view chunk);
stream_event_ptr make_thinking_event(const stream_identity& who, std::int64_t offset,
                                     std::string_view chunk);
stream_event_ptr make_tool_event(const stream_identity& who, std::int64_t offset,
                                 const tool_call& call);
// Whether consecutive events of this kind may be merged into one for a client that is behind.
inline bool is_mergeable(stream_event::kind k) {
  return k == stream_event::kind::update || k == stream_event::kind::thinking;
}
// The same kind of event as `like` (update or thinking) carrying `chunk`.
stream_event_ptr remake_chunk_event(const stream_event& like, std::int64_t offset,
                                    std::string_view chunk);
// Consecutive updates (or thinking updates) of one message as one (for the plain protocol, which
// has no offsets): their text, the first one's emit time.
stream_event_ptr merge_updates(const std::vector<stream_event_ptr>& run);
// `usage`: the model that answered and its token counts, each sent only when known (SPEC §9).
stream_event_ptr make_end_event(const stream_identity& who, std::int64_t offset,
                                model::stream_status status, const job_result& usage = {});
stream_event_ptr make_refresh_event(std::int64_t chat_id);
// What current_state shows of an answer (SPEC §5, §9).
struct answer_view {
  std::string_view content;
  std::string_view thinking;
  std::string_view tool_status;  // "": none running (null on the wire)
};
stream_event_ptr make_state_event(const stream_identity& who, std::int64_t offset,
                                  const answer_view& answer, bool streaming);
// A tool call's report as JSON ({"call_id","name","status","summary"}), appended to `out`.
void append_tool_call_json(std::string& out, const tool_call& call);

}  // namespace actorcable::actors

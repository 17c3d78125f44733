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
// Consecutive updates of one message as one update (for the plain protocol, which has no
// offsets): their text, the first one's emit time.
stream_event_ptr merge_updates(const std::vector<stream_event_ptr>& run);
// `usage`: the model that answered and its token counts, each sent only when known (SPEC §9).
stream_event_ptr make_end_event(const stream_identity& who, std::int64_t offset,
                                model::stream_status status, const job_result& usage = {});
stream_event_ptr make_refresh_event(std::int64_t chat_id);
stream_event_ptr make_state_event(const stream_identity& who, std::int64_t offset,
                                  std::string_view content, bool streaming);

}  // namespace actorcable::actors

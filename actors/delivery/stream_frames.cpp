#include "actors/delivery/stream_frames.hpp"

#include "common/log.hpp"
#include "model/obfuscated_id.hpp"

namespace actorcable::actors {
namespace {

using log::append_json_string;

std::shared_ptr<stream_event> finish(const stream_identity& who, stream_event::kind type,
                                     std::int64_t offset, std::string json) {
  auto ev = std::make_shared<stream_event>();
  ev->type = type;
  ev->message_id = who.message_id;
  ev->oid = who.oid;
  ev->offset = offset;
  ev->message_json = std::move(json);
  ev->ext_fields = ",\"stream_id\":";
  append_json_string(ev->ext_fields, "Message:" + who.oid);
  ev->ext_fields += ",\"epoch\":";
  append_json_string(ev->ext_fields, who.epoch);
  ev->ext_fields += ",\"offset\":" + std::to_string(offset);
  ev->emitted_at = std::chrono::steady_clock::now();
  return ev;
}

}  // namespace

namespace {

std::shared_ptr<stream_event> chunk_event(const stream_identity& who, stream_event::kind type,
                                          std::int64_t offset, std::string_view chunk) {
  std::string json;
  json.reserve(chunk.size() + 64);
  json += type == stream_event::kind::thinking ? "{\"action\":\"thinking_update\",\"chunk\":"
                                               : "{\"action\":\"streaming_update\",\"chunk\":";
  append_json_string(json, chunk);
  json += ",\"id\":";
  append_json_string(json, who.oid);
  json += '}';
  auto ev = finish(who, type, offset, std::move(json));
  ev->chunk = std::string(chunk);
  return ev;
}

}  // namespace

stream_event_ptr make_update_event(const stream_identity& who, std::int64_t offset,
                                   std::string_view chunk) {
  return chunk_event(who, stream_event::kind::update, offset, chunk);
}

stream_event_ptr make_thinking_event(const stream_identity& who, std::int64_t offset,
                                     std::string_view chunk) {
  return chunk_event(who, stream_event::kind::thinking, offset, chunk);
}

void append_tool_call_json(std::string& out, const tool_call& call) {
  out += "{\"call_id\":";
  append_json_string(out, call.call_id);
  out += ",\"name\":";
  append_json_string(out, call.name);
  out += ",\"status\":";
  append_json_string(out, call.status);
  out += ",\"summary\":";
  append_json_string(out, call.summary);
  out += '}';
}

stream_event_ptr make_tool_event(const stream_identity& who, std::int64_t offset,
                                 const tool_call& call) {
  std::string json = "{\"action\":\"tool_update\",\"id\":";
  append_json_string(json, who.oid);
  std::string fields;
  append_tool_call_json(fields, call);
  json += ',';
  json.append(fields, 1);  // the call's fields follow the id in the same object
  return finish(who, stream_event::kind::tool, offset, std::move(json));
}

stream_event_ptr remake_chunk_event(const stream_event& like, std::int64_t offset,
                                    std::string_view chunk) {
  return chunk_event({like.message_id, like.oid, ""}, like.type, offset, chunk);
}

stream_event_ptr merge_updates(const std::vector<stream_event_ptr>& run) {
  std::string text;
  for (auto& ev : run)
    text += ev->chunk;
  auto& first = *run.front();
  auto merged = chunk_event({first.message_id, first.oid, ""}, first.type, run.back()->offset, text);
  merged->emitted_at = first.emitted_at;
  return merged;
}

stream_event_ptr make_end_event(const stream_identity& who, std::int64_t offset,
                                model::stream_status status, const job_result& usage) {
  std::string json = "{\"action\":\"streaming_end\",\"chunk\":null,\"id\":";
  append_json_string(json, who.oid);
  json += ",\"status\":";
  append_json_string(json, model::to_string(status));
  if (!usage.model_id.empty()) {
    json += ",\"model_id\":";
    append_json_string(json, usage.model_id);
  }
  if (usage.input_tokens || usage.output_tokens) {
    json += ",\"usage\":{";
    if (usage.input_tokens)
      json += "\"input_tokens\":" + std::to_string(*usage.input_tokens);
    if (usage.output_tokens)
      json += std::string(usage.input_tokens ? "," : "") + "\"output_tokens\":"
              + std::to_string(*usage.output_tokens);
    json += '}';
  }
  json += '}';
  return finish(who, stream_event::kind::end, offset, std::move(json));
}

stream_event_ptr make_refresh_event(std::int64_t chat_id) {
  auto ev = std::make_shared<stream_event>();
  ev->type = stream_event::kind::refresh;
  ev->chat_id = chat_id;
  ev->message_json = R"({"action":"refresh","prop":"messages","id":)";
  append_json_string(ev->message_json, model::encode_id(model::model_kind::chat, chat_id));
  ev->message_json += '}';
  return ev;
}

stream_event_ptr make_state_event(const stream_identity& who, std::int64_t offset,
                                  const answer_view& answer, bool streaming) {
  std::string json = "{\"action\":\"current_state\",\"id\":";
  append_json_string(json, who.oid);
  json += ",\"content\":";
  append_json_string(json, answer.content);
  json += ",\"thinking\":";
  append_json_string(json, answer.thinking);
  json += ",\"tool_status\":";
  if (answer.tool_status.empty())
    json += "null";
  else
    append_json_string(json, answer.tool_status);
  json += streaming ? ",\"streaming\":true}" : ",\"streaming\":false}";
  return finish(who, stream_event::kind::state, offset, std::move(json));
}

}  // namespace actorcable::actors

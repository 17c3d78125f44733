#include "actors/stream/answer.hpp"

#include "model/utf8.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace actorcable::actors {

bool answer::add_chunk(stream_event::kind kind, std::string& into, std::string_view raw) {
  auto text = model::sanitize_utf8(raw);
  if (text.empty())
    return false;
  auto begin = into.size();
  into += text;
  parts_.push_back({kind, begin, into.size()});
  return true;
}

bool answer::add_text(std::string_view raw) {
  return add_chunk(stream_event::kind::update, content_, raw);
}

bool answer::add_thinking(std::string_view raw) {
  return add_chunk(stream_event::kind::thinking, thinking_, raw);
}

bool answer::add_tool(tool_call call) {
  if (call.status != "running" && call.status != "done" && call.status != "error")
    return false;
  for (auto* field : {&call.call_id, &call.name, &call.summary})
    *field = model::sanitize_utf8(*field);
  auto [at, fresh] = call_index_.try_emplace(call.call_id, tool_calls_.size());
  if (fresh)
    tool_calls_.push_back(call);
  else
    tool_calls_[at->second] = call;
  if (call.status == "running")
    running_.insert(at->second);
  else
    running_.erase(at->second);
  tools_changed_ = true;
  tool_reports_.push_back(std::move(call));
  parts_.push_back({stream_event::kind::tool, tool_reports_.size() - 1, tool_reports_.size() - 1});
  return true;
}

void answer::restore(const resumed_answer& stored) {
  add_thinking(stored.thinking);
  boost::system::error_code ec;
  auto calls = boost::json::parse(stored.tool_calls, ec);
  if (!ec && calls.is_array())
    for (auto& c : calls.as_array()) {
      auto* o = c.if_object();
      if (!o)
        continue;
      auto field = [&](const char* key) {
        auto* v = o->if_contains(key);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
      };
      add_tool({field("call_id"), field("name"), field("status"), field("summary")});
    }
  add_text(stored.text);
  mark_handed();
}

std::string_view answer::running_tool() const {
  // The running call that began last.
  return running_.empty() ? std::string_view{} : std::string_view(tool_calls_[*running_.rbegin()].summary);
}

std::string answer::tool_calls_json() const {
  std::string out = "[";
  for (auto& call : tool_calls_) {
    if (out.size() > 1)
      out += ',';
    append_tool_call_json(out, call);
  }
  return out + "]";
}

stream_event_ptr answer::part_event(const stream_identity& who, std::int64_t offset) const {
  auto& p = parts_[static_cast<std::size_t>(offset - 1)];
  switch (p.kind) {
    case stream_event::kind::thinking:
      return make_thinking_event(who, offset, std::string_view(thinking_).substr(p.begin, p.end - p.begin));
    case stream_event::kind::tool:
      return make_tool_event(who, offset, tool_reports_[p.begin]);
    default:
      return make_update_event(who, offset, std::string_view(content_).substr(p.begin, p.end - p.begin));
  }
}

std::size_t answer::replay_cost(std::int64_t after) const {
  constexpr std::size_t per_frame = 160;
  std::size_t cost = 0;
  for (auto i = static_cast<std::size_t>(std::max<std::int64_t>(after, 0)); i < parts_.size(); ++i)
    cost += per_frame + (parts_[i].end - parts_[i].begin);  // a tool part's range is empty
  return cost;
}

std::optional<stream_delta> answer::take_delta(std::int64_t message_id) {
  if (text_handed_ == content_.size() && thinking_handed_ == thinking_.size() && !tools_changed_)
    return std::nullopt;
  stream_delta d;
  d.message_id = message_id;
  d.text = content_.substr(text_handed_);
  d.text_base = static_cast<std::int64_t>(text_handed_);
  d.thinking = thinking_.substr(thinking_handed_);
  d.thinking_base = static_cast<std::int64_t>(thinking_handed_);
  if (tools_changed_) {
    d.tools_changed = true;
    d.tool_status = std::string(running_tool());
    d.tool_calls = tool_calls_json();
  }
  mark_handed();
  return d;
}

void answer::mark_handed() {
  text_handed_ = content_.size();
  thinking_handed_ = thinking_.size();
  tools_changed_ = false;
}

}  // namespace actorcable::actors

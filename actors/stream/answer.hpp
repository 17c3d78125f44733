// What a message actor holds of its answer (SPEC §9): the parts in the order the job produced
// them (a part's offset is its index + 1), the text and reasoning they add up to, the tool calls,
// and how much of it the writer has been handed.
#pragma once
#include "actors/store/stream_writer.hpp"
#include "actors/delivery/stream_frames.hpp"

#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace actorcable::actors {

class answer {
public:
  // Each adds one part; false when there was nothing to add (empty once made valid UTF-8, or a
  // tool report whose status is not running, done or error).
  bool add_text(std::string_view raw);
  bool add_thinking(std::string_view raw);
  bool add_tool(tool_call call);
  // Starts from what was stored of an answer taken over (SPEC §12): its reasoning, each tool
  // call's last report and its text become one part each, counted as handed to the writer.
  void restore(const resumed_answer& stored);

  std::int64_t parts() const { return static_cast<std::int64_t>(parts_.size()); }
  const std::string& content() const { return content_; }
  const std::string& thinking() const { return thinking_; }
  // The summary of the tool call running now ("" when none).
  std::string_view running_tool() const;
  // Every call's last report, as a JSON array.
  std::string tool_calls_json() const;
  answer_view view() const { return {content_, thinking_, running_tool()}; }

  // The event of part `offset` (1-based), built again from what is kept.
  stream_event_ptr part_event(const stream_identity& who, std::int64_t offset) const;
  // What replaying the parts after `after` would build: their text and a frame's overhead each.
  std::size_t replay_cost(std::int64_t after) const;

  // What the writer has not been handed yet (none: nothing new), from then on counted as handed.
  std::optional<stream_delta> take_delta(std::int64_t message_id);
  void mark_handed();  // the final write carries everything

private:
  // Text and reasoning parts are [begin, end) of content_ or thinking_; a tool part's begin is
  // the index of its report in tool_reports_.
  struct part {
    stream_event::kind kind;
    std::size_t begin;
    std::size_t end;
  };
  bool add_chunk(stream_event::kind kind, std::string& into, std::string_view raw);

  std::vector<part> parts_;
  std::string content_;
  std::string thinking_;
  std::vector<tool_call> tool_reports_;  // every report, in order
  std::vector<tool_call> tool_calls_;    // each call's last report, in the order calls began
  // Tool reports cost O(log n) each, not a scan of every call (an answer may report 100,000):
  std::unordered_map<std::string, std::size_t> call_index_;  // call_id -> its place in tool_calls_
  std::set<std::size_t> running_;                            // places of the calls running now
  std::size_t text_handed_ = 0;
  std::size_t thinking_handed_ = 0;
  bool tools_changed_ = false;  // since the writer was last handed the tool state
};

}  // namespace actorcable::actors

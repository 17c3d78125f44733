#include "net/write_queue.hpp"

#include "actors/stream_frames.hpp"

namespace actorcable::net {
namespace {

// The frame's text before its "message" value (`{"identifier":"...","message":`).
std::string_view head(const std::string& frame, const actors::stream_event& ev) {
  return std::string_view(frame).substr(0, frame.size() - ev.message_json.size() - 1);
}

}  // namespace

write_queue::result write_queue::push(frame_ptr frame, actors::stream_event_ptr update) {
  bool waiting = entries_.size() > (writing_ ? 1u : 0u);
  if (update && waiting) {
    auto& last = entries_.back();
    if (last.update && last.update->message_id == update->message_id
        && head(*last.frame, *last.update) == head(*frame, *update)) {
      if (bytes_ + update->chunk.size() > limit_)
        return result::over_limit;
      last.more += update->chunk;
      bytes_ += update->chunk.size();
      return result::merged;
    }
  }
  if (bytes_ + frame->size() > limit_)
    return result::over_limit;
  bytes_ += frame->size();
  entries_.push_back({std::move(frame), std::move(update), {}});
  return result::queued;
}

void write_queue::push_unbounded(frame_ptr frame) {
  bytes_ += frame->size();
  entries_.push_back({std::move(frame), nullptr, {}});
}

const std::string& write_queue::start_write() {
  auto& e = entries_.front();
  writing_ = true;
  if (!e.more.empty()) {
    auto& ev = *e.update;
    actors::stream_identity who{ev.message_id, ev.oid, ""};
    auto merged = actors::make_update_event(who, ev.offset, ev.chunk + e.more);
    std::string text(head(*e.frame, ev));
    text += merged->message_json;
    text += '}';
    bytes_ -= e.frame->size() + e.more.size();
    bytes_ += text.size();
    e.frame = make_frame(std::move(text));
    e.more.clear();
  }
  e.update = nullptr;
  return *e.frame;
}

void write_queue::finish_write() {
  bytes_ -= entries_.front().frame->size();
  entries_.pop_front();
  writing_ = false;
}

void write_queue::drop_waiting() {
  while (entries_.size() > (writing_ ? 1u : 0u)) {
    bytes_ -= entries_.back().frame->size() + entries_.back().more.size();
    entries_.pop_back();
  }
}

void write_queue::clear() {
  entries_.clear();
  bytes_ = 0;
  writing_ = false;
}

}  // namespace actorcable::net

#include "net/ws/write_queue.hpp"

#include "actors/delivery/stream_frames.hpp"

namespace actorcable::net {
namespace {

// The frame's text before its "message" value (`{"identifier":"...","message":`).
std::string_view head(const std::string& frame, const actors::stream_event& ev) {
  return std::string_view(frame).substr(0, frame.size() - ev.message_json.size() - 1);
}

}  // namespace

write_queue::result write_queue::push(frame_ptr frame, actors::stream_event_ptr update) {
  if (update && !empty()) {
    auto& last = entries_.back();
    if (last.update && last.update->message_id == update->message_id
        && last.update->type == update->type
        && head(*last.frame, *last.update) == head(*frame, *update)) {
      if (!fits(update->chunk.size()))
        return result::over_limit;
      last.more += update->chunk;
      bytes_ += update->chunk.size();
      return result::merged;
    }
  }
  if (!fits(frame->size()))
    return result::over_limit;
  bytes_ += frame->size();
  entries_.push_back({std::move(frame), std::move(update), {}});
  return result::queued;
}

std::size_t write_queue::waiting_bytes() const {
  if (empty())
    return 0;
  auto& front = entries_[head_];
  return bytes_ - front.frame->size() - front.more.size();
}

bool write_queue::fits(std::size_t more) const {
  // Into an empty queue, or right behind the front frame, anything goes: it is the next thing
  // on the wire.
  if (size() <= 1)
    return true;
  return waiting_bytes() + more <= limit_;
}

void write_queue::push_unbounded(frame_ptr payload, ws_opcode op) {
  bytes_ += payload->size();
  entries_.push_back({std::move(payload), nullptr, {}, op});
}

void write_queue::push_front_started(frame_ptr frame, std::size_t written) {
  bytes_ += frame->size();
  entry e{std::move(frame), nullptr, {}};
  prepare(e);
  if (head_ > 0)
    entries_[--head_] = std::move(e);
  else
    entries_.insert(entries_.begin(), std::move(e));
  offset_ = written;
}

void write_queue::prepare(entry& e) {
  if (e.header_len > 0)
    return;
  if (!e.more.empty()) {
    auto& ev = *e.update;
    auto merged = actors::remake_chunk_event(ev, ev.offset, ev.chunk + e.more);
    std::string text(head(*e.frame, ev));
    text += merged->message_json;
    text += '}';
    bytes_ -= e.frame->size() + e.more.size();
    bytes_ += text.size();
    e.frame = make_frame(std::move(text));
    e.more.clear();
  }
  e.update = nullptr;
  e.header_len = ws_header(e.header, e.op, e.frame->size());
}

void write_queue::gather(std::vector<boost::asio::const_buffer>& out, std::size_t max_frames) {
  std::size_t skip = offset_;
  for (std::size_t i = 0; i < size() && i < max_frames; ++i) {
    auto& e = at(i);
    prepare(e);
    if (skip < e.header_len)
      out.emplace_back(e.header.data() + skip, e.header_len - skip);
    auto from = skip > e.header_len ? skip - e.header_len : 0;
    out.emplace_back(e.frame->data() + from, e.frame->size() - from);
    skip = 0;
  }
}

void write_queue::consume(std::size_t n) {
  while (n > 0 && !empty()) {
    auto& e = entries_[head_];
    auto left = e.header_len + e.frame->size() - offset_;
    if (n < left) {
      offset_ += n;
      return;
    }
    n -= left;
    bytes_ -= e.frame->size();
    pop_front();
    offset_ = 0;
  }
}

void write_queue::pop_front() {
  entries_[head_++] = entry{};  // the frame is released now, not when the slot is reused
  if (head_ == entries_.size()) {
    head_ = 0;
    // A queue that a burst grew gives its memory back once drained; a small one is kept so
    // that a connection streaming at a steady pace does not allocate per frame.
    if (entries_.capacity() > 8)
      std::vector<entry>().swap(entries_);
    else
      entries_.clear();
  } else if (head_ >= 64 && head_ * 2 >= entries_.size()) {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void write_queue::drop_waiting() {
  while (size() > (writing() ? 1u : 0u)) {
    bytes_ -= entries_.back().frame->size() + entries_.back().more.size();
    entries_.pop_back();
  }
  if (empty()) {
    entries_.clear();
    head_ = 0;
  }
}

void write_queue::clear() {
  std::vector<entry>().swap(entries_);
  head_ = 0;
  bytes_ = 0;
  offset_ = 0;
}

}  // namespace actorcable::net

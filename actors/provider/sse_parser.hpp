// Server-sent events, incrementally: feed bytes as they arrive, in pieces of any size; each
// complete event's data comes out once (SPEC §7, the OpenAI-compatible stream).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace actorcable::actors {

class sse_parser {
public:
  // A line or an event longer than this is an error: a broken peer cannot exhaust memory.
  static constexpr std::size_t max_bytes = 4 * 1024 * 1024;

  bool overflowed() const { return overflowed_; }

  // Appends `bytes` and returns the data of every event they completed, in order.
  std::vector<std::string> feed(std::string_view bytes);

  // Bytes held for an unfinished line or event.
  std::size_t pending() const { return line_.size() + data_.size(); }

private:
  void line(std::string_view text, std::vector<std::string>& out);

  std::string line_;
  std::string data_;
  bool has_data_ = false;
  bool after_cr_ = false;
  bool overflowed_ = false;
};

}  // namespace actorcable::actors

#include "actors/provider/sse_parser.hpp"

namespace actorcable::actors {

std::vector<std::string> sse_parser::feed(std::string_view bytes) {
  std::vector<std::string> out;
  for (char c : bytes) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n')
        continue;  // the \n of a \r\n
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      line(line_, out);
      line_.clear();
    } else {
      line_ += c;
      if (line_.size() + data_.size() > max_bytes) {
        overflowed_ = true;
        line_.clear();
        data_.clear();
      }
    }
  }
  return out;
}

void sse_parser::line(std::string_view text, std::vector<std::string>& out) {
  if (text.empty()) {  // blank line: dispatch
    if (has_data_)
      out.push_back(std::move(data_));
    data_.clear();
    has_data_ = false;
    return;
  }
  if (text[0] == ':')
    return;  // comment
  auto colon = text.find(':');
  auto field = text.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = text.substr(colon + 1);
    if (!value.empty() && value[0] == ' ')
      value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_)
      data_ += '\n';
    data_ += value;
    has_data_ = true;
  }
  // event, id, retry and unknown fields carry nothing an OpenAI-compatible stream needs
}

}  // namespace actorcable::actors

#include "actors/provider/scripted_provider.hpp"

#include "actors/errors.hpp"
#include <array>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace actorcable::actors {
namespace {

constexpr std::array<std::string_view, 48> words = {
  "Actors", "keep", "their", "state", "to", "themselves,", "so", "every", "chunk", "of",
  "this", "answer", "passes", "through", "one", "mailbox", "in", "order.", "The", "message",
  "actor", "appends", "it,", "persists", "it", "in", "batches", "and", "hands", "the", "same",
  "frame", "to", "every", "subscriber.", "When", "the", "job", "ends,", "for", "whatever",
  "reason,", "the", "stream", "ends", "too,", "exactly", "once."};

// The text of [[name:VALUE]] in `text`: 1 to `max_len` characters (empty: absent or longer).
std::string_view marker_text(std::string_view text, std::string_view name, std::size_t max_len) {
  std::string key = "[[" + std::string(name) + ":";
  auto pos = text.find(key);
  if (pos == std::string_view::npos)
    return {};
  auto start = pos + key.size();
  auto end = text.find("]]", start);
  if (end == std::string_view::npos || end - start > max_len)
    return {};
  return text.substr(start, end - start);
}

// Value of [[name:N]] in `text`, if present and numeric.
std::optional<long> marker(std::string_view text, std::string_view name) {
  auto digits = marker_text(text, name, 9);
  if (digits.empty())
    return std::nullopt;
  long value = 0;
  for (auto c : digits) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// NAME of [[name:NAME]]: 1-64 letters, digits, '_', '-' or '.'.
std::string word_marker(std::string_view text, std::string_view name) {
  auto value = marker_text(text, name, 64);
  for (unsigned char c : value)
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.')
      return {};
  return std::string(value);
}

}  // namespace

scripted_plan parse_scripted_plan(std::string_view question, const scripted_config& cfg) {
  scripted_plan plan;
  plan.chunks = cfg.default_chunks;
  plan.rate = cfg.default_rate;
  if (auto n = marker(question, "chunks"))
    plan.chunks = static_cast<int>(std::min<long>(*n, 1'000'000));
  if (auto n = marker(question, "rate"); n && *n > 0)
    plan.rate = static_cast<double>(std::min<long>(*n, 100'000));
  if (auto n = marker(question, "delay"))
    plan.delay_ms = static_cast<int>(std::min<long>(*n, 600'000));
  if (auto n = marker(question, "fail-after"))
    plan.fail_after = static_cast<int>(*n);
  if (question.find("[[stall]]") != std::string_view::npos)
    plan.stall_after = cfg.stall_after;
  if (auto n = marker(question, "think"))
    plan.thinking_chunks = static_cast<int>(std::min<long>(*n, 100'000));
  plan.tool = word_marker(question, "tool");
  plan.bench = question.find("[[bench]]") != std::string_view::npos;
  return plan;
}

std::string scripted_chunk(int i) {
  std::string out(words[static_cast<std::size_t>(i) % words.size()]);
  out += ' ';
  return out;
}

std::string scripted_thinking(int i) {
  return "Thinking step " + std::to_string(i + 1) + ". ";
}

std::string bench_chunk(int i) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
              std::chrono::system_clock::now().time_since_epoch()).count();
  auto out = std::to_string(i) + "|" + std::to_string(ns) + "|";
  if (out.size() < 40)
    out.append(40 - out.size(), '.');
  return out;
}

caf::behavior scripted_provider(caf::stateful_actor<scripted_state>* self, job_sink_actor target,
                                scripted_plan plan) {
  self->set_exception_handler([](caf::scheduled_actor*, std::exception_ptr& ptr) -> caf::error {
    try {
      std::rethrow_exception(ptr);
    } catch (const std::exception& e) {
      return make_error(errc::job_failed, e.what());
    } catch (...) {
      return make_error(errc::job_failed, "unknown exception");
    }
  });
  auto pace = std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(1.0 / plan.rate));
  if (plan.delay_ms > 0)
    self->delayed_send(self, std::chrono::milliseconds(plan.delay_ms), caf::tick_atom::value);
  else
    self->send(self, caf::tick_atom::value);
  // What a continued answer already has is skipped without waiting (SPEC §12).
  auto skip = [](std::size_t& left, std::string text) -> std::optional<std::string> {
    if (left >= text.size()) {
      left -= text.size();
      return std::nullopt;
    }
    text.erase(0, left);
    left = 0;
    return text;
  };
  return {
    [=](caf::tick_atom) mutable {
      auto& prelude = self->state.prelude;
      int tool_steps = plan.tool.empty() ? 0 : 2;
      while (prelude < plan.thinking_chunks + tool_steps) {
        if (prelude < plan.thinking_chunks) {
          auto part = skip(plan.resume_thinking_bytes, scripted_thinking(prelude++));
          if (!part)
            continue;
          self->send(target, thinking_atom::value, std::move(*part));
        } else {
          bool running = prelude++ == plan.thinking_chunks;
          if (plan.resume_after_tool)
            continue;
          self->send(target, tool_atom::value,
                     tool_call{"call_1", plan.tool, running ? "running" : "done",
                               running ? "Running " + plan.tool : plan.tool + " finished"});
        }
        self->delayed_send(self, pace, caf::tick_atom::value);
        return;
      }
      auto& sent = self->state.sent;
      for (;;) {
        if (plan.fail_after && sent >= *plan.fail_after)
          throw std::runtime_error("scripted provider failed after " + std::to_string(sent)
                                   + " chunks");
        if (plan.stall_after && sent >= *plan.stall_after)
          return;  // silent from now on: only the message actor's idle timer ends this
        if (sent >= plan.chunks) {
          self->send(target, job_done_atom::value, job_result{plan.model, std::nullopt,
                                                               std::int64_t{sent}});
          self->quit();
          return;
        }
        auto part = skip(plan.resume_text_bytes, plan.bench ? bench_chunk(sent) : scripted_chunk(sent));
        ++sent;
        if (!part)
          continue;
        self->send(target, chunk_atom::value, std::move(*part));
        self->delayed_send(self, pace, caf::tick_atom::value);
        return;
      }
    },
  };
}

}  // namespace actorcable::actors

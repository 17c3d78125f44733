#include "common/metrics.hpp"

namespace actorcable {
namespace {

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void line(std::string& out, const char* name, const char* type, const char* help,
          std::int64_t value) {
  header(out, name, type, help);
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

std::int64_t v(const std::atomic<std::int64_t>& a) {
  return a.load(std::memory_order_relaxed);
}

std::string number(double d) {
  auto s = std::to_string(d);
  while (s.size() > 1 && s.back() == '0')
    s.pop_back();
  if (s.back() == '.')
    s.pop_back();
  return s;
}

}  // namespace

void histogram::observe(double seconds, std::int64_t times) {
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i])
    ++i;
  counts_[i].fetch_add(times, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::int64_t>(seconds * 1e6) * times, std::memory_order_relaxed);
}

void histogram::render(std::string& out, const char* name, const char* help) const {
  header(out, name, "histogram", help);
  std::int64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    out += name;
    out += "_bucket{le=\"";
    out += i < bounds.size() ? number(bounds[i]) : std::string("+Inf");
    out += "\"} ";
    out += std::to_string(cumulative);
    out += '\n';
  }
  out += name;
  out += "_sum " + number(sum_micros_.load(std::memory_order_relaxed) / 1e6) + "\n";
  out += name;
  out += "_count " + std::to_string(cumulative) + "\n";
}

std::string metrics::render() const {
  std::string out;
  line(out, "actorcable_clients_num", "gauge", "Open WebSocket connections.", v(connections));
  line(out, "actorcable_subscriptions_num", "gauge", "Confirmed channel subscriptions.",
       v(subscriptions));
  line(out, "actorcable_stream_subscribers_num", "gauge",
       "Subscribers registered with message actors.", v(stream_subscribers));
  line(out, "actorcable_streams_active_num", "gauge", "Messages currently streaming.",
       v(active_streams));
  line(out, "actorcable_message_actors_num", "gauge",
       "Message actors alive (streaming, or keeping history after the end).", v(message_actors));
  line(out, "actorcable_database_up", "gauge", "1 while the database answers the writer.", v(db_up));
  line(out, "actorcable_chunks_total", "counter", "Chunks received from AI jobs.", v(chunks_total));
  line(out, "actorcable_broadcast_msg_total", "counter", "Broadcast frames sent to clients.",
       v(broadcasts_total));
  line(out, "actorcable_broadcast_bytes_total", "counter", "Bytes of broadcast frames sent.",
       v(broadcast_bytes_total));
  line(out, "actorcable_slow_clients_disconnected_total", "counter",
       "Clients disconnected as too_slow.", v(slow_disconnects_total));
  line(out, "actorcable_sessions_stored_total", "counter",
       "Extended-protocol sessions kept for a restore (?sid=) after their connection closed.",
       v(sessions_stored_total));
  line(out, "actorcable_sessions_restored_total", "counter", "Sessions restored by a reconnect.",
       v(sessions_restored_total));
  line(out, "actorcable_accept_failures_total", "counter",
       "Connections the listener failed to accept (e.g. no descriptors left).",
       v(accept_failures_total));
  line(out, "actorcable_commands_total", "counter",
       "ActionCable commands handled, in each connection's order (refused ones included).",
       v(commands_total));
  line(out, "actorcable_commands_rejected_total", "counter",
       "ActionCable commands ignored or refused: unknown, invalid or over a rate limit.",
       v(commands_rejected_total));
  line(out, "actorcable_published_total", "counter",
       "Broadcasts to named streams taken by POST /_broadcast on this node.", v(published_total));
  line(out, "actorcable_broadcast_deliveries_total", "counter",
       "Broadcasts to named streams handed to this node's connections (one per connection and stream).",
       v(broadcast_deliveries_total));
  line(out, "actorcable_updates_merged_total", "counter",
       "streaming_updates merged into one already queued for a client that is behind.",
       v(updates_merged_total));
  line(out, "actorcable_streams_ended_total", "counter", "Streams ended, any status.",
       v(streams_ended_total));
  line(out, "actorcable_persist_flushes_total", "counter",
       "Statements that appended streamed text (one for all streams per flush).",
       v(persist_flushes_total));
  line(out, "actorcable_persist_rows_total", "counter", "Rows those statements updated.",
       v(persist_rows_total));
  line(out, "actorcable_persist_finishes_total", "counter", "Final writes of ended streams.",
       v(persist_finishes_total));
  line(out, "actorcable_leases_lost_total", "counter",
       "Streams stopped because another node closed their row (this node's lease had expired).",
       v(leases_lost_total));
  line(out, "actorcable_handovers_total", "counter",
       "Streaming answers this node handed over to a peer when it stopped.", v(handovers_total));
  line(out, "actorcable_takeovers_total", "counter",
       "Streaming answers this node took over (handed over, or orphaned) to continue them.",
       v(takeovers_total));
  line(out, "actorcable_cluster_peers_num", "gauge", "Other nodes connected to this one.",
       v(cluster_peers));
  line(out, "actorcable_cluster_frames_sent_total", "counter",
       "Stream events sent to other nodes (one per node per event, whatever its subscribers).",
       v(cluster_frames_sent_total));
  line(out, "actorcable_cluster_frames_received_total", "counter",
       "Stream events received from other nodes.", v(cluster_frames_received_total));
  header(out, "actorcable_provider_errors_total", "counter", "AI provider failures by kind.");
  const std::pair<const char*, const std::atomic<std::int64_t>*> kinds[] = {
    {"connect", &provider_errors_connect}, {"http", &provider_errors_http},
    {"stream", &provider_errors_stream}, {"timeout", &provider_errors_timeout},
    {"malformed", &provider_errors_malformed}};
  for (auto& [kind, counter] : kinds)
    out += std::string("actorcable_provider_errors_total{kind=\"") + kind + "\"} "
           + std::to_string(v(*counter)) + "\n";
  line(out, "actorcable_memory_trims_total", "counter",
       "Times freed memory was handed back to the system while idle.", v(memory_trims_total));
  header(out, "actorcable_limited_total", "counter", "Requests refused by a per-user limit.");
  const std::pair<const char*, const std::atomic<std::int64_t>*> limits[] = {
    {"answers_concurrent", &limited_answers_concurrent},
    {"answers_per_minute", &limited_answers_per_minute}, {"connections", &limited_connections},
    {"chats", &limited_chats}, {"subscriptions", &limited_subscriptions},
    {"identifier_bytes", &limited_identifier_bytes}, {"sessions", &limited_sessions}};
  for (auto& [limit, counter] : limits)
    out += std::string("actorcable_limited_total{limit=\"") + limit + "\"} "
           + std::to_string(v(*counter)) + "\n";
  provider_attempts.render(out, "actorcable_provider_attempts_total",
                           "Answers started with a provider and model (failover attempts included).");
  provider_failovers.render(out, "actorcable_provider_failovers_total",
                            "Providers that failed before their first part and handed over to the next model.");
  first_token_seconds.render(out, "actorcable_time_to_first_token_seconds",
                             "From the start of a stream to its first chunk.");
  answer_seconds.render(out, "actorcable_answer_duration_seconds",
                        "From the start of a stream to its end.");
  emit_to_socket_seconds.render(out, "actorcable_emit_to_socket_seconds",
                                "From a chunk reaching its message actor to its frame being "
                                "handed to a client's socket.");
  return out;
}

void labelled_counter::add(const std::string& labels, std::int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  counts_[labels] += n;
}

void labelled_counter::render(std::string& out, const char* name, const char* help) const {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [labels, n] : counts_)
    out += std::string(name) + "{" + labels + "} " + std::to_string(n) + "\n";
}

}  // namespace actorcable

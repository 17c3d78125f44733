// Process-wide counters, gauges and histograms, owned by `serve` and handed to whoever updates
// them; rendered as Prometheus text at GET /metrics. Lock-free: updates are relaxed atomics.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace actorcable {

// Fixed buckets in seconds, from 100 µs (a chunk's way through the server) to 60 s.
class histogram {
public:
  static constexpr std::array<double, 15> bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                    1, 5, 60};
  void observe(double seconds, std::int64_t times = 1);  // `times` equal observations
  void render(std::string& out, const char* name, const char* help) const;

private:
  std::array<std::atomic<std::int64_t>, bounds.size() + 1> counts_{};  // last: +Inf
  std::atomic<std::int64_t> sum_micros_{0};
};

// A counter per label set (`provider="a",model="b"`), for rare events (one per answer at most).
class labelled_counter {
public:
  void add(const std::string& labels, std::int64_t n = 1);
  void render(std::string& out, const char* name, const char* help) const;

private:
  mutable std::mutex mutex_;
  std::map<std::string, std::int64_t> counts_;
};

struct metrics {
  std::atomic<std::int64_t> connections{0};             // open WebSocket connections
  std::atomic<std::int64_t> subscriptions{0};           // confirmed subscriptions
  std::atomic<std::int64_t> stream_subscribers{0};      // subscriber actors of message actors
  std::atomic<std::int64_t> active_streams{0};          // message actors streaming
  std::atomic<std::int64_t> message_actors{0};          // alive, streaming or retained
  std::atomic<std::int64_t> db_up{1};                   // the writer's last database call worked
  std::atomic<std::int64_t> chunks_total{0};            // chunks received from jobs
  std::atomic<std::int64_t> broadcasts_total{0};        // frames sent to WebSocket clients
  std::atomic<std::int64_t> broadcast_bytes_total{0};
  std::atomic<std::int64_t> slow_disconnects_total{0};  // clients dropped as too_slow
  std::atomic<std::int64_t> updates_merged_total{0};    // updates merged into a queued one
  std::atomic<std::int64_t> accept_failures_total{0};   // accept(2) failed (descriptors exhausted)
  std::atomic<std::int64_t> sessions_stored_total{0};   // extended-protocol sessions kept for ?sid=
  std::atomic<std::int64_t> sessions_restored_total{0};
  std::atomic<std::int64_t> commands_total{0};          // ActionCable commands handled
  std::atomic<std::int64_t> commands_rejected_total{0}; // unknown, invalid or rate-limited commands
  std::atomic<std::int64_t> published_total{0};         // broadcasts taken by POST /_broadcast
  std::atomic<std::int64_t> broadcast_deliveries_total{0};  // a broadcast handed to one listener
  // requests refused by a per-user limit (SPEC §13)
  std::atomic<std::int64_t> limited_answers_concurrent{0};
  std::atomic<std::int64_t> limited_answers_per_minute{0};
  std::atomic<std::int64_t> limited_connections{0};
  std::atomic<std::int64_t> limited_chats{0};
  std::atomic<std::int64_t> memory_trims_total{0};  // free memory handed back while idle
  std::atomic<std::int64_t> limited_subscriptions{0};
  std::atomic<std::int64_t> limited_identifier_bytes{0};
  std::atomic<std::int64_t> limited_sessions{0};
  std::atomic<std::int64_t> streams_ended_total{0};
  std::atomic<std::int64_t> persist_flushes_total{0};   // append statements
  std::atomic<std::int64_t> persist_rows_total{0};      // rows they updated
  std::atomic<std::int64_t> persist_finishes_total{0};  // final writes
  std::atomic<std::int64_t> leases_lost_total{0};       // streams this node stopped: row not ours
  std::atomic<std::int64_t> handovers_total{0};   // streams this node handed to a peer (SPEC §12)
  std::atomic<std::int64_t> takeovers_total{0};   // streams this node took over to continue them
  std::atomic<std::int64_t> cluster_peers{0};           // other nodes connected
  std::atomic<std::int64_t> cluster_frames_sent_total{0};      // events sent to other nodes
  std::atomic<std::int64_t> cluster_frames_received_total{0};  // events received from them
  // provider errors by kind
  std::atomic<std::int64_t> provider_errors_connect{0};
  std::atomic<std::int64_t> provider_errors_http{0};
  std::atomic<std::int64_t> provider_errors_stream{0};
  std::atomic<std::int64_t> provider_errors_timeout{0};
  std::atomic<std::int64_t> provider_errors_malformed{0};
  labelled_counter provider_attempts;   // by provider and model (SPEC §10)
  labelled_counter provider_failovers;  // by the provider and model that failed before a part
  histogram first_token_seconds;    // stream start -> first chunk
  histogram answer_seconds;         // stream start -> end
  histogram emit_to_socket_seconds; // chunk in the message actor -> frame handed to the socket

  std::string render() const;
};

}  // namespace actorcable

// Process-wide counters and gauges, owned by `serve` and handed to whoever updates them;
// rendered as Prometheus text at GET /metrics. Lock-free: updates are relaxed atomics.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>

namespace actorcable {

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
  std::atomic<std::int64_t> streams_ended_total{0};

  std::string render() const;
};

}  // namespace actorcable

#include "common/metrics.hpp"

namespace actorcable {
namespace {

void line(std::string& out, const char* name, const char* type, const char* help,
          std::int64_t value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

std::string metrics::render() const {
  auto v = [](const std::atomic<std::int64_t>& a) { return a.load(std::memory_order_relaxed); };
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
  line(out, "actorcable_streams_ended_total", "counter", "Streams ended, any status.",
       v(streams_ended_total));
  return out;
}

}  // namespace actorcable

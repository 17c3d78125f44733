// WebSocket load generator for the fan-out benchmark. Opens N connections, subscribes them
// (ActionCable to actorcable, plain WebSocket to nchan or the bare broadcast server) and records,
// for every chunk received, its latency from the emit time the publisher put in it
// ("<seq>|<unix ns>|..."), plus missing and out-of-order chunks per connection.
//
//   loadgen --url ws://127.0.0.1:8080/cable?jid=T --cable MESSAGE_ID [--connections N]
//   loadgen --url ws://127.0.0.1:8080/cable?jid=T --cable-chat CHAT_ID[,CHAT_ID...] (every answer
//   of a chat; with a list, connection i watches chat i mod the list's length)
//   loadgen --url ws://127.0.0.1:8081/sub/ch --expect CHUNKS [--connections N] [--channels M]
//   (plain mode with --channels M: connection i subscribes to channel ch<i mod M>)
//   common: --timeout S (default 60), --server-pid P[,P...] (CPU seconds and RSS), --idle (connect and
//   subscribe, report RSS, exit), --slow K (K connections stop reading once subscribed; they are
//   not counted as readers), --sources K (connection i binds to 127.0.0.<2 + i mod K>: one
//   source address has about 28,000 ephemeral ports), --connecting B (at most B connections
//   being set up at once; 0, the default: all at once), --settle S (once all are subscribed,
//   S seconds idle before "subscribed" is printed: the server's CPU over them is `idle_cpu_s`)
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <boost/json/src.hpp>  // header-only here: one translation unit

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct options {
  std::string host, port, target;
  std::string cable_message;  // ActionCable mode: the message's obfuscated id
  std::string cable_chat;     // ActionCable mode: a chat's id (Chat:<id>:messages, all answers)
  long expect = 0;            // plain mode: chunks each connection should get
  int connections = 100;
  int channels = 1;
  int timeout_s = 60;
  std::string server_pids;  // comma-separated: nginx has several workers
  int slow = 0;
  int sources = 0;     // 0: the system picks the source address
  int connecting = 0;  // connections being set up at once; 0: no limit
  int settle_s = 0;    // idle seconds measured once all are subscribed
  bool idle = false;
  bool cable() const { return !cable_message.empty() || !cable_chat.empty(); }
};

struct totals {
  long frames = 0, delivered = 0, missing = 0, out_of_order = 0, ended = 0, subscribed = 0, failed = 0;
  std::vector<std::uint32_t> latency_us;
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch()).count();
}

// One connection. The handshake and the frames are done by hand on the socket (the server's
// frames are parsed straight from what one read returned): the load generator must cost far
// less per frame than the servers it measures, for every server alike.
class client : public std::enable_shared_from_this<client> {
public:
  client(asio::io_context& ioc, const options& opt, totals& t, bool slow, std::string target,
         std::string chat)
    : sock_(ioc), opt_(opt), t_(t), slow_(slow), target_(std::move(target)), chat_(std::move(chat)) {}

  void start(const tcp::endpoint& ep, int index) {
    if (opt_.sources > 0) {
      beast::error_code ec;
      auto source = asio::ip::make_address_v4((127u << 24) | (2u + static_cast<unsigned>(index % opt_.sources)));
      sock_.open(tcp::v4(), ec);
      if (!ec) sock_.bind(tcp::endpoint(source, 0), ec);
      if (ec) return fail();
    }
    sock_.async_connect(ep, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->fail();
      self->sock_.set_option(tcp::no_delay(true));
      self->out_ = "GET " + self->target_ + " HTTP/1.1\r\nHost: " + self->opt_.host + ":" + self->opt_.port
                   + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: bG9hZGdlbi1rZXktMDAwMA==\r\nSec-WebSocket-Version: 13\r\n";
      if (self->opt_.cable()) self->out_ += "Sec-WebSocket-Protocol: actioncable-v1-json\r\n";
      self->out_ += "\r\n";
      asio::async_write(self->sock_, asio::buffer(self->out_), [self](beast::error_code ec, std::size_t) {
        if (ec) return self->fail();
        self->read();
      });
    });
  }

private:
  void fail() { ++t_.failed; done_ = true; }

  void read() {
    if (in_.size() - used_ < 4096) in_.resize(std::max<std::size_t>(in_.size() * 2, used_ + 4096));
    sock_.async_read_some(asio::buffer(in_.data() + used_, in_.size() - used_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) { if (!self->done_) self->fail(); return; }
      self->used_ += n;
      if (!self->parse()) return;
      // A slow client reads the ActionCable handshake, then nothing.
      if (!self->done_ && !(self->slow_ && self->subscribed_)) self->read();
    });
  }

  // Handles every whole frame (or the HTTP answer) in the buffer; false when the connection failed.
  bool parse() {
    std::size_t at = 0;
    if (!open_) {
      auto end = std::string_view(in_.data(), used_).find("\r\n\r\n");
      if (end == std::string_view::npos) return true;
      if (std::string_view(in_.data(), used_).rfind("HTTP/1.1 101", 0) != 0) { fail(); return false; }
      open_ = true;
      at = end + 4;
      if (!opt_.cable()) { ++t_.subscribed; subscribed_ = true; }
    }
    while (used_ - at >= 2) {
      auto b0 = static_cast<unsigned char>(in_[at]), b1 = static_cast<unsigned char>(in_[at + 1]);
      std::size_t len = b1 & 0x7F, header = 2;
      if (len == 126) {
        if (used_ - at < 4) break;
        len = (static_cast<unsigned char>(in_[at + 2]) << 8) | static_cast<unsigned char>(in_[at + 3]);
        header = 4;
      } else if (len == 127) {
        if (used_ - at < 10) break;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(in_[at + 2 + i]);
        header = 10;
      }
      if (used_ - at < header + len) break;
      std::string_view payload(in_.data() + at + header, len);
      at += header + len;
      int op = b0 & 0x0F;
      if (op == 8) { if (!done_) fail(); return false; }  // closed by the server
      if (op == 1 || op == 0) {
        message_.append(payload);
        if (b0 & 0x80) {
          on_frame(message_);
          message_.clear();
        }
      }
      if (done_) return false;
    }
    std::memmove(in_.data(), in_.data() + at, used_ - at);
    used_ -= at;
    return true;
  }

  // A client frame is masked (key 0: the bytes are sent as they are).
  void send_text(const std::string& text) {
    out_.clear();
    out_ += static_cast<char>(0x81);
    if (text.size() < 126) {
      out_ += static_cast<char>(0x80 | text.size());
    } else {
      out_ += static_cast<char>(0x80 | 126);
      out_ += static_cast<char>(text.size() >> 8);
      out_ += static_cast<char>(text.size() & 0xFF);
    }
    out_.append(4, '\0');
    out_ += text;
    asio::async_write(sock_, asio::buffer(out_), [](beast::error_code, std::size_t) {});
  }

  // One chunk, or several back to back when the server merged a slow client's pending updates
  // (each chunk is "<seq>|<unix ns>|" padded with dots).
  void chunk(std::string_view text) {
    ++t_.frames;
    std::size_t at = 0;
    while (at < text.size()) {
      auto bar = text.find('|', at);
      auto bar2 = bar == std::string_view::npos ? bar : text.find('|', bar + 1);
      if (bar2 == std::string_view::npos) return;
      long seq = std::stol(std::string(text.substr(at, bar - at)));
      std::int64_t emitted = std::stoll(std::string(text.substr(bar + 1, bar2 - bar - 1)));
      at = bar2 + 1;
      while (at < text.size() && text[at] == '.') ++at;
      ++t_.delivered;
      t_.latency_us.push_back(static_cast<std::uint32_t>(std::max<std::int64_t>(0, now_ns() - emitted) / 1000));
      if (seq == next_) ++next_;
      else if (seq > next_) { t_.missing += seq - next_; next_ = seq + 1; }
      else ++t_.out_of_order;
    }
    if (opt_.expect > 0 && next_ >= opt_.expect) { done_ = true; ++t_.ended; }
  }

  // The string value of "name" in `text` from `from` on, when it has no escapes.
  static std::optional<std::string_view> plain_field(std::string_view text, std::size_t from,
                                                     std::string_view name) {
    std::string key = "\"" + std::string(name) + "\":\"";
    auto at = text.find(key, from);
    if (at == std::string_view::npos) return std::nullopt;
    at += key.size();
    auto end = text.find('"', at);
    if (end == std::string_view::npos) return std::nullopt;
    auto value = text.substr(at, end - at);
    if (value.find('\\') != std::string_view::npos) return std::nullopt;
    return value;
  }

  void on_frame(std::string_view frame) {
    if (!opt_.cable()) return chunk(frame);
    // Broadcasts are nearly all the traffic: their fields are read without building a JSON tree,
    // so that the load generator costs about as much per frame as with the plain-text peers
    // (anything with escapes takes the full parse below).
    if (frame.rfind("{\"identifier\":", 0) == 0) {
      auto msg = frame.find("\"message\":{");
      if (msg != std::string::npos) {
        auto action = plain_field(frame, msg, "action");
        if (action == "streaming_update") {
          if (auto text = plain_field(frame, msg, "chunk")) return chunk(*text);
        } else if (action == "current_state") {
          if (auto text = plain_field(frame, msg, "content")) return chunk(*text);
        }
      }
    }
    auto v = boost::json::parse(boost::json::string_view(frame.data(), frame.size())).as_object();
    if (auto type = v.if_contains("type")) {
      auto t = type->as_string();
      if (t == "welcome") {
        boost::json::object id{{"channel", "SyncChannel"}};
        if (chat_.empty()) {
          id["model"] = "Message";
          id["id"] = opt_.cable_message;
        } else {
          id["model"] = "Chat";
          id["id"] = chat_ + ":messages";
        }
        boost::json::object cmd{{"command", "subscribe"}, {"identifier", boost::json::serialize(id)}};
        send_text(boost::json::serialize(cmd));
      } else if (t == "confirm_subscription") {
        ++t_.subscribed;
        subscribed_ = true;
      }
      return;
    }
    auto* msg = v.if_contains("message");
    if (!msg) return;
    auto& m = msg->as_object();
    auto action = m.at("action").as_string();
    // current_state carries the chunks a late subscriber missed, concatenated.
    if (action == "streaming_update") chunk(m.at("chunk").as_string());
    else if (action == "current_state") chunk(m.at("content").as_string());
    else if (action == "streaming_end") { done_ = true; ++t_.ended; }
  }

  tcp::socket sock_;
  std::vector<char> in_;
  std::size_t used_ = 0;
  bool open_ = false;
  std::string message_;
  const options& opt_;
  totals& t_;
  bool slow_;
  std::string target_;
  std::string chat_;
  bool subscribed_ = false;
  bool done_ = false;
  long next_ = 0;
  std::string out_;
};

std::pair<double, long> cpu_and_rss_of(int pid) {
  if (pid <= 0) return {0, 0};
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i == 14 || i == 15) ticks += std::stod(field);
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  long rss = 0;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stol(line.substr(6));
  return {ticks / sysconf(_SC_CLK_TCK), rss};
}

std::pair<double, long> cpu_and_rss(const std::string& pids) {
  double cpu = 0;
  long rss = 0;
  std::istringstream in(pids);
  std::string pid;
  while (std::getline(in, pid, ','))
    if (!pid.empty()) {
      auto [c, r] = cpu_and_rss_of(std::stoi(pid));
      cpu += c;
      rss += r;
    }
  return {cpu, rss};
}

int main(int argc, char** argv) {
  options opt;
  std::string url;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--idle") { opt.idle = true; continue; }
    if (i + 1 >= argc) { std::cerr << "loadgen: " << a << " needs a value\n"; return 2; }
    std::string v = argv[++i];
    if (a == "--url") url = v;
    else if (a == "--cable") opt.cable_message = v;
    else if (a == "--cable-chat") opt.cable_chat = v;
    else if (a == "--expect") opt.expect = std::stol(v);
    else if (a == "--connections") opt.connections = std::stoi(v);
    else if (a == "--timeout") opt.timeout_s = std::stoi(v);
    else if (a == "--server-pid") opt.server_pids = v;
    else if (a == "--slow") opt.slow = std::stoi(v);
    else if (a == "--channels") opt.channels = std::max(1, std::stoi(v));
    else if (a == "--sources") opt.sources = std::max(0, std::stoi(v));
    else if (a == "--connecting") opt.connecting = std::max(0, std::stoi(v));
    else if (a == "--settle") opt.settle_s = std::max(0, std::stoi(v));
    else { std::cerr << "loadgen: unknown option " << a << "\n"; return 2; }
  }
  if (url.rfind("ws://", 0) != 0) { std::cerr << "loadgen: --url ws://host:port/path needed\n"; return 2; }
  auto rest = url.substr(5);
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  opt.target = slash == std::string::npos ? "/" : rest.substr(slash);
  opt.host = authority.substr(0, authority.find(':'));
  opt.port = authority.substr(authority.find(':') + 1);
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);

  asio::io_context ioc{1};
  totals t;
  t.latency_us.reserve(1 << 20);
  auto ep = tcp::resolver(ioc).resolve(opt.host, opt.port)->endpoint();
  std::vector<std::string> chats;
  {
    std::istringstream list(opt.cable_chat);
    std::string c;
    while (std::getline(list, c, ','))
      if (!c.empty()) chats.push_back(c);
  }
  std::vector<std::shared_ptr<client>> clients;
  for (int i = 0; i < opt.connections; ++i) {
    auto target = opt.cable() || opt.channels == 1 ? opt.target
                                                   : opt.target + std::to_string(i % opt.channels);
    // The slow ones are spread over the connections, not the first ones opened.
    bool slow = opt.slow > 0 && i % std::max(1, opt.connections / opt.slow) == 0
                && i / std::max(1, opt.connections / opt.slow) < opt.slow;
    clients.push_back(std::make_shared<client>(ioc, opt, t, slow, target,
                                               chats.empty() ? std::string() : chats[i % chats.size()]));
  }
  std::size_t started = 0;
  auto start_more = [&] {  // keeps at most `connecting` set-ups in flight
    while (started < clients.size()
           && (opt.connecting == 0 || started - (t.subscribed + t.failed) < static_cast<std::size_t>(opt.connecting))) {
      clients[started]->start(ep, static_cast<int>(started));
      ++started;
    }
  };
  start_more();
  // CPU is counted from the moment every connection is subscribed (and settled): the fan-out,
  // not the set-up.
  double cpu0 = 0, own_cpu0 = 0, idle_cpu0 = 0, idle_cpu = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(opt.timeout_s + opt.settle_s);
  int readers = opt.connections - opt.slow;
  bool all_subscribed = false, ready_printed = false;
  std::chrono::steady_clock::time_point settled, ready_at;
  while (std::chrono::steady_clock::now() < deadline) {
    ioc.run_for(std::chrono::milliseconds(20));
    start_more();
    if (!all_subscribed && t.subscribed + t.failed >= opt.connections) {
      all_subscribed = true;
      idle_cpu0 = cpu_and_rss(opt.server_pids).first;
      settled = std::chrono::steady_clock::now() + std::chrono::seconds(opt.settle_s);
    }
    if (all_subscribed && !ready_printed && std::chrono::steady_clock::now() >= settled) {
      cpu0 = cpu_and_rss(opt.server_pids).first;
      idle_cpu = cpu0 - idle_cpu0;
      own_cpu0 = cpu_and_rss_of(getpid()).first;
      ready_at = std::chrono::steady_clock::now();
      std::cerr << "loadgen: " << t.subscribed << " subscribed" << std::endl;  // the driver waits for this
      ready_printed = true;
      if (opt.idle) break;
    }
    if (!opt.idle && t.ended + t.failed >= readers && ready_printed) break;
  }
  auto [cpu1, rss1] = cpu_and_rss(opt.server_pids);
  auto own_cpu1 = cpu_and_rss_of(getpid()).first;
  std::sort(t.latency_us.begin(), t.latency_us.end());
  auto pct = [&](double p) -> std::uint32_t {
    return t.latency_us.empty() ? 0 : t.latency_us[std::min(t.latency_us.size() - 1, static_cast<std::size_t>(p * t.latency_us.size()))];
  };
  std::printf("{\"connections\":%d,\"subscribed\":%ld,\"failed\":%ld,\"ended\":%ld,\"frames\":%ld,\"delivered\":%ld,"
              "\"missing\":%ld,\"out_of_order\":%ld,\"p50_us\":%u,\"p99_us\":%u,\"max_us\":%u,"
              "\"server_cpu_s\":%.3f,\"server_rss_kb\":%ld,\"loadgen_cpu_s\":%.3f,\"idle_cpu_s\":%.3f,\"settle_s\":%d,\"window_s\":%.3f}\n",
              opt.connections, t.subscribed, t.failed, t.ended, t.frames, t.delivered, t.missing, t.out_of_order,
              pct(0.5), pct(0.99), t.latency_us.empty() ? 0 : t.latency_us.back(), cpu1 - cpu0, rss1,
              own_cpu1 - own_cpu0, idle_cpu, opt.settle_s,
              ready_printed ? std::chrono::duration<double>(std::chrono::steady_clock::now() - ready_at).count() : 0.0);
  return t.failed > 0 ? 1 : 0;
}

// Publisher of the fan-out benchmark for nchan and the floor server: posts chunks of 40 bytes,
// "<seq>|<unix ns>|" padded with dots, to /pub/<channel> at a fixed rate per channel. With
// --channels M the channels are <name>0 .. <name>M-1, one keep-alive connection each.
//
//   publisher --url http://127.0.0.1:8081/pub/NAME --chunks C [--rate 20] [--channels 1]
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string chunk_body(long seq) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
              std::chrono::system_clock::now().time_since_epoch()).count();
  std::string s = std::to_string(seq) + "|" + std::to_string(ns) + "|";
  s.resize(std::max<std::size_t>(s.size(), 40), '.');
  return s;
}

class channel : public std::enable_shared_from_this<channel> {
public:
  channel(asio::io_context& ioc, std::string host, std::string target, long chunks,
          std::chrono::nanoseconds period, long& failures)
    : stream_(ioc), timer_(ioc), host_(std::move(host)), target_(std::move(target)),
      chunks_(chunks), period_(period), failures_(failures) {}

  void start(const tcp::resolver::results_type& ep, std::chrono::nanoseconds offset) {
    stream_.async_connect(ep, [self = shared_from_this(), offset](beast::error_code ec, auto) {
      if (ec) { ++self->failures_; return; }
      self->next_ = std::chrono::steady_clock::now() + offset;
      self->schedule();
    });
  }

private:
  void schedule() {
    if (seq_ >= chunks_) return;
    timer_.expires_at(next_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->next_ += self->period_;
      self->post();
    });
  }
  void post() {
    req_ = {http::verb::post, target_, 11};
    req_.set(http::field::host, host_);
    req_.body() = chunk_body(seq_++);
    req_.prepare_payload();
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) { ++self->failures_; return; }
      self->res_ = {};
      http::async_read(self->stream_, self->buf_, self->res_, [self](beast::error_code ec, std::size_t) {
        if (ec || self->res_.result_int() >= 300) ++self->failures_;
        if (!ec) self->schedule();
      });
    });
  }
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  std::string host_, target_;
  long chunks_, seq_ = 0;
  std::chrono::nanoseconds period_;
  std::chrono::steady_clock::time_point next_;
  long& failures_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

int main(int argc, char** argv) {
  std::string url;
  long chunks = 0, channels = 1;
  double rate = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--url") url = v;
    else if (a == "--chunks") chunks = std::stol(v);
    else if (a == "--rate") rate = std::stod(v);
    else if (a == "--channels") channels = std::stol(v);
    else { std::cerr << "publisher: unknown option " << a << "\n"; return 2; }
  }
  if (url.rfind("http://", 0) != 0 || chunks <= 0) {
    std::cerr << "publisher: --url http://host:port/pub/NAME and --chunks N needed\n";
    return 2;
  }
  auto rest = url.substr(7);
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto target = rest.substr(slash);
  auto host = authority.substr(0, authority.find(':'));
  auto port = authority.substr(authority.find(':') + 1);
  asio::io_context ioc{1};
  auto ep = tcp::resolver(ioc).resolve(host, port);
  long failures = 0;
  auto period = std::chrono::nanoseconds(static_cast<long>(1e9 / rate));
  for (long c = 0; c < channels; ++c) {
    auto t = channels == 1 ? target : target + std::to_string(c);
    // Spread the channels over one period, as independent answers would be.
    std::make_shared<channel>(ioc, authority, t, chunks, period, failures)
      ->start(ep, period * c / channels);
  }
  ioc.run();
  std::printf("{\"channels\":%ld,\"chunks\":%ld,\"failures\":%ld}\n", channels, chunks, failures);
  return failures > 0 ? 1 : 0;
}

// The floor of the fan-out benchmark: a bare Beast broadcast server with nchan's interface and
// nothing else (no protocol, no actors, no database). WebSocket clients subscribe at /sub/<channel>;
// `POST /pub/<channel>` sends the body to every subscriber of that channel as one text frame.
// One io_context per thread; each thread keeps its own subscribers, so a publish is one post per
// thread, then a loop over that thread's sockets writing one shared buffer.
//
//   floor --port P [--threads 2]
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/resource.h>

#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using frame = std::shared_ptr<const std::string>;

struct worker;

class subscriber : public std::enable_shared_from_this<subscriber> {
public:
  subscriber(websocket::stream<tcp::socket> ws, worker& w, std::string channel)
    : ws_(std::move(ws)), worker_(w), channel_(std::move(channel)) {}
  void start(http::request<http::string_body> req);
  void send(const frame& f) {
    queue_.push_back(f);
    if (queue_.size() == 1)
      write();
  }
  const std::string& channel() const { return channel_; }

private:
  void write() {
    ws_.async_write(asio::buffer(*queue_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->queue_.pop_front();
      if (!ec && !self->queue_.empty())
        self->write();
    });
  }
  void read();
  websocket::stream<tcp::socket> ws_;
  worker& worker_;
  std::string channel_;
  beast::flat_buffer buf_;
  std::deque<frame> queue_;
};

struct worker {
  asio::io_context ioc{1};
  std::unordered_map<std::string, std::vector<std::shared_ptr<subscriber>>> channels;
  void publish(const std::string& channel, const frame& f) {
    auto it = channels.find(channel);
    if (it == channels.end())
      return;
    for (auto& s : it->second)
      s->send(f);
  }
  void remove(const subscriber* s) {
    auto it = channels.find(s->channel());
    if (it == channels.end())
      return;
    auto& v = it->second;
    for (auto i = v.begin(); i != v.end(); ++i)
      if (i->get() == s) {
        *i = v.back();
        v.pop_back();
        break;
      }
  }
};

void subscriber::start(http::request<http::string_body> req) {
  ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
    if (ec)
      return;
    self->worker_.channels[self->channel_].push_back(self);
    self->read();
  });
}

void subscriber::read() {
  ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) {
      self->worker_.remove(self.get());
      return;
    }
    self->buf_.consume(self->buf_.size());
    self->read();
  });
}

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(tcp::socket s, worker& w, const std::vector<std::unique_ptr<worker>>& all)
    : stream_(std::move(s)), worker_(w), all_(all) {}
  void read() {
    req_ = {};
    http::async_read(stream_, buf_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec)
        return;
      self->handle();
    });
  }

private:
  void handle() {
    std::string target(req_.target());
    if (websocket::is_upgrade(req_) && target.rfind("/sub/", 0) == 0) {
      std::make_shared<subscriber>(websocket::stream<tcp::socket>(stream_.release_socket()), worker_,
                                   target.substr(5))
        ->start(std::move(req_));
      return;
    }
    if (req_.method() == http::verb::post && target.rfind("/pub/", 0) == 0) {
      auto channel = target.substr(5);
      auto f = std::make_shared<const std::string>(std::move(req_.body()));
      for (auto& w : all_)
        asio::post(w->ioc, [w = w.get(), channel, f] { w->publish(channel, f); });
      respond(http::status::accepted);
      return;
    }
    respond(http::status::not_found);
  }
  void respond(http::status status) {
    res_ = {status, req_.version()};
    res_.keep_alive(req_.keep_alive());
    res_.prepare_payload();
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec && self->res_.keep_alive())
        self->read();
    });
  }
  beast::tcp_stream stream_;
  worker& worker_;
  const std::vector<std::unique_ptr<worker>>& all_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  http::response<http::empty_body> res_;
};

int main(int argc, char** argv) {
  unsigned short port = 0;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--port") port = static_cast<unsigned short>(std::stoi(argv[i + 1]));
    else if (a == "--threads") threads = std::stoi(argv[i + 1]);
  }
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  std::vector<std::unique_ptr<worker>> workers;
  for (int i = 0; i < threads; ++i)
    workers.push_back(std::make_unique<worker>());
  asio::io_context accept_ctx{1};
  tcp::acceptor acceptor(accept_ctx, {asio::ip::make_address("127.0.0.1"), port});
  std::size_t next = 0;
  std::function<void()> accept = [&] {
    auto& w = *workers[next++ % workers.size()];
    acceptor.async_accept(w.ioc, [&, wp = &w](beast::error_code ec, tcp::socket s) {
      if (!ec)
        std::make_shared<http_session>(std::move(s), *wp, workers)->read();
      accept();
    });
  };
  accept();
  std::cerr << "floor listening on " << acceptor.local_endpoint().port() << std::endl;
  std::vector<std::thread> pool;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& w : workers) {
    guards.push_back(asio::make_work_guard(w->ioc));
    pool.emplace_back([w = w.get()] { w->ioc.run(); });
  }
  accept_ctx.run();
}

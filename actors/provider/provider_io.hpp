// The I/O thread of outgoing provider connections, with the TLS context they verify against.
#pragma once
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <thread>

namespace actorcable::actors {

struct provider_io {
  boost::asio::io_context ioc{1};
  boost::asio::ssl::context tls{boost::asio::ssl::context::tls_client};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{ioc.get_executor()};
  std::thread thread;

  provider_io() {
    tls.set_default_verify_paths();  // honours SSL_CERT_FILE / SSL_CERT_DIR
    tls.set_verify_mode(boost::asio::ssl::verify_peer);
    thread = std::thread([this] { ioc.run(); });
  }
  ~provider_io() {
    guard.reset();
    ioc.stop();
    thread.join();
  }
};

}  // namespace actorcable::actors

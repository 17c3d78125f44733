#include "actors/provider/openai_session.hpp"

#include "common/log.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <caf/send.hpp>

#include <algorithm>

namespace actorcable::actors {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::optional<http_endpoint> api_endpoint(std::string_view url, std::string_view resource) {
  http_endpoint ep;
  if (url.rfind("https://", 0) == 0) {
    ep.tls = true;
    url.remove_prefix(8);
  } else if (url.rfind("http://", 0) == 0) {
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  auto slash = url.find('/');
  auto authority = url.substr(0, slash);
  std::string path(slash == std::string_view::npos ? "" : url.substr(slash));
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    ep.host = std::string(authority.substr(0, colon));
    ep.port = std::string(authority.substr(colon + 1));
  } else {
    ep.host = std::string(authority);
    ep.port = ep.tls ? "443" : "80";
  }
  if (ep.host.empty() || ep.port.empty())
    return std::nullopt;
  if (path.size() < 3 || path.substr(path.size() - 3) != "/v1")
    path += "/v1";
  ep.path = path + std::string(resource);
  return ep;
}

openai_session::openai_session(provider_io& io, http_endpoint ep, std::string body,
                               http_headers headers, caf::actor owner,
                               std::chrono::milliseconds connect_timeout)
  : io_(io), ep_(std::move(ep)), body_(std::move(body)), headers_(std::move(headers)),
    owner_(std::move(owner)), connect_timeout_(connect_timeout), resolver_(io.ioc) {
  if (ep_.tls)
    secure_.emplace(io.ioc, io.tls);
  else
    plain_.emplace(io.ioc);
}

template <class F>
void openai_session::with_stream(F&& f) {
  if (secure_)
    f(*secure_);
  else
    f(*plain_);
}

void openai_session::fail(provider_error kind, const std::string& reason, bool retryable,
                          std::int64_t retry_ms) {
  if (finished_)
    return;
  finished_ = true;
  caf::anon_send(owner_, provider_failed_atom::value, provider_failure{kind, reason, retryable, retry_ms});
  beast::error_code ignored;
  with_stream([&](auto& s) { beast::get_lowest_layer(s).socket().close(ignored); });
}

void openai_session::cancel() {
  asio::post(io_.ioc, [self = shared_from_this()] {
    self->finished_ = true;
    self->resolver_.cancel();
    self->with_stream([](auto& s) { beast::get_lowest_layer(s).close(); });
  });
}

void openai_session::start() {
  asio::post(io_.ioc, [self = shared_from_this()] {
    self->resolver_.async_resolve(
      self->ep_.host, self->ep_.port,
      [self](beast::error_code ec, tcp::resolver::results_type results) {
        if (self->finished_)
          return;
        if (ec)
          return self->fail(provider_error::connect, "cannot resolve " + self->ep_.host + ": " + ec.message(), true);
        self->with_stream([&](auto& s) {
          auto& lowest = beast::get_lowest_layer(s);
          lowest.expires_after(self->connect_timeout_);
          lowest.async_connect(results, [self](beast::error_code ec, const tcp::endpoint&) {
            if (self->finished_)
              return;
            if (ec == beast::error::timeout)
              return self->fail(provider_error::connect, "connect timeout to " + self->ep_.host, true);
            if (ec)
              return self->fail(provider_error::connect, "cannot connect to " + self->ep_.host + ":" + self->ep_.port + ": "
                                  + ec.message(), true);
            self->on_connected();
          });
        });
      });
  });
}

void openai_session::on_connected() {
  if (!secure_) {
    write_request();
    return;
  }
  if (!SSL_set_tlsext_host_name(secure_->native_handle(), ep_.host.c_str()))
    return fail(provider_error::connect, "cannot set TLS server name", false);
  secure_->set_verify_callback(asio::ssl::host_name_verification(ep_.host));
  secure_->async_handshake(asio::ssl::stream_base::client,
                           [self = shared_from_this()](beast::error_code ec) {
                             if (self->finished_)
                               return;
                             if (ec)
                               return self->fail(provider_error::connect, "TLS handshake with " + self->ep_.host
                                                   + " failed: " + ec.message(), false);
                             self->write_request();
                           });
}

void openai_session::write_request() {
  request_.emplace(http::verb::post, ep_.path, 11);
  request_->set(http::field::host, ep_.host);
  request_->set(http::field::content_type, "application/json");
  request_->set(http::field::accept, "text/event-stream");
  request_->set(http::field::user_agent, "actorcable");
  for (auto& [name, value] : headers_)
    request_->set(name, value);
  request_->body() = std::move(body_);
  request_->prepare_payload();
  with_stream([&](auto& s) {
    beast::get_lowest_layer(s).expires_after(connect_timeout_);
    http::async_write(s, *request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (self->finished_)
        return;
      if (ec)
        return self->fail(provider_error::connect, "sending the request failed: " + ec.message(), true);
      self->read_header();
    });
  });
}

void openai_session::read_header() {
  parser_.emplace();
  parser_->body_limit(boost::none);  // a stream is as long as the answer
  with_stream([&](auto& s) {
    beast::get_lowest_layer(s).expires_never();  // the provider actor times the answer
    http::async_read_header(s, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (self->finished_)
                                return;
                              if (ec)
                                return self->fail(provider_error::connect, "reading the response failed: " + ec.message(), true);
                              auto status = self->parser_->get().result_int();
                              if (status != 200) {
                                std::int64_t retry_ms = 0;
                                auto ra = self->parser_->get()[http::field::retry_after];
                                if (!ra.empty() && std::all_of(ra.begin(), ra.end(), ::isdigit))
                                  retry_ms = std::stoll(std::string(ra.substr(0, 6))) * 1000;
                                bool retryable = status == 429 || status >= 500;
                                return self->fail(provider_error::http, "provider answered HTTP " + std::to_string(status),
                                                  retryable, retry_ms);
                              }
                              self->read_body();
                            });
  });
}

void openai_session::read_body() {
  parser_->get().body().data = chunk_.data();
  parser_->get().body().size = chunk_.size();
  with_stream([&](auto& s) {
    http::async_read_some(s, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (self->finished_)
        return;
      if (ec && ec != http::error::need_buffer)
        return self->fail(provider_error::stream, "the stream broke: " + ec.message(), false);
      auto got = self->chunk_.size() - self->parser_->get().body().size;
      for (auto& data : self->sse_.feed(std::string_view(self->chunk_.data(), got)))
        caf::anon_send(self->owner_, provider_data_atom::value, std::move(data));
      if (self->sse_.overflowed())
        return self->fail(provider_error::malformed, "the provider sent an event over " + std::to_string(sse_parser::max_bytes)
                            + " bytes", false);
      if (self->parser_->is_done()) {
        self->finished_ = true;
        caf::anon_send(self->owner_, provider_eof_atom::value);
        return;
      }
      self->read_body();
    });
  });
}

}  // namespace actorcable::actors

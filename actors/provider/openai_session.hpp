// One streaming HTTP(S) request (OpenAI-compatible or Anthropic), on the provider I/O thread.
// Reports to its owner actor: (provider_data_atom, string) per SSE event, then
// (provider_eof_atom) or (provider_failed_atom, provider_failure).
#pragma once
#include "actors/provider/provider_error.hpp"
#include "actors/provider/provider_io.hpp"
#include "actors/provider/sse_parser.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <caf/actor.hpp>
#include <caf/atom.hpp>

#include <array>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

namespace actorcable::actors {

using provider_data_atom = caf::atom_constant<caf::atom("prov_data")>;
using provider_eof_atom = caf::atom_constant<caf::atom("prov_eof")>;
using provider_failed_atom = caf::atom_constant<caf::atom("prov_fail")>;

struct http_endpoint {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;  // of the streaming resource
};

// "https://api.openai.com" or ".../v1" -> .../v1<resource>; nullopt if not http(s).
std::optional<http_endpoint> api_endpoint(std::string_view base_url, std::string_view resource);
// The OpenAI-compatible chat completions resource: .../v1/chat/completions.
inline std::optional<http_endpoint> chat_completions_endpoint(std::string_view base_url) {
  return api_endpoint(base_url, "/chat/completions");
}

// Request headers beside host, content type and accept (credentials among them: never logged).
using http_headers = std::vector<std::pair<std::string, std::string>>;

class openai_session : public std::enable_shared_from_this<openai_session> {
public:
  openai_session(provider_io& io, http_endpoint ep, std::string body, http_headers headers,
                 caf::actor owner, std::chrono::milliseconds connect_timeout);
  void start();
  // Closes the connection at once (no further tokens are read, or billed). Thread-safe.
  void cancel();

private:
  template <class F>
  void with_stream(F&& f);
  void fail(provider_error kind, const std::string& reason, bool retryable,
            std::int64_t retry_ms = 0);
  void on_connected();
  void write_request();
  void read_header();
  void read_body();

  provider_io& io_;
  http_endpoint ep_;
  std::string body_;
  http_headers headers_;
  caf::actor owner_;
  std::chrono::milliseconds connect_timeout_;
  boost::asio::ip::tcp::resolver resolver_;
  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> secure_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request<boost::beast::http::string_body>> request_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::buffer_body>> parser_;
  std::array<char, 8192> chunk_;
  sse_parser sse_;
  bool finished_ = false;
};

}  // namespace actorcable::actors

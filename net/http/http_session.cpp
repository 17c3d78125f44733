#include "net/http/http_session.hpp"

#include "common/log.hpp"
#include "net/auth/auth.hpp"
#include "net/api/broadcast_api.hpp"
#include "net/api/ingest_api.hpp"
#include "net/api/ingest_stream.hpp"
#include "net/api/sign_in.hpp"
#include "net/http/lingering_close.hpp"
#include "net/http/query_string.hpp"
#include "net/http/static_files.hpp"
#include "net/ws/handshake.hpp"
#include "net/ws/ws_session.hpp"
#include "persistence/pg/pg_connection.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <optional>

namespace actorcable::net {
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

namespace {

// The user a cable request signs in as (SPEC §3: ?jid= or X-JID), if the token is valid.
std::optional<std::int64_t> cable_user(const std::string& secret,
                                       const http::request<http::string_body>& req) {
  std::string token = query_param(req.target(), "jid");
  if (token.empty())
    token = std::string(req["X-JID"]);
  return authenticate(secret, token);
}

// Sign-in and sign-out answers: never cached, and the address (with its token) never sent on.
http_reply private_page(http_reply r) {
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  return r;
}

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(boost::asio::ip::tcp::socket socket, io_worker& worker, net_context& ctx)
    : stream_(std::move(socket)), worker_(worker), ctx_(ctx) {}

  void run() { do_read(); }

private:
  void do_read() {
    parser_.emplace();
    // No limit while the headers are read: an ingest stream's body is unbounded whether it is
    // chunked or has a Content-Length (SPEC §17); other bodies are bounded in on_header.
    parser_->body_limit(boost::none);
    parser_->header_limit(16 * 1024);
    // A client that trickles its headers is cut at the header timeout; the body gets longer.
    stream_.expires_after(ctx_.cfg.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&http_session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t n) {
    if (ec) {
      on_read(ec, n);
      return;
    }
    auto& req = parser_->get();
    auto path = path_of(req.target());
    if (path.rfind("/ingest/", 0) == 0) {
      auto target = ingest_route_of(path);
      if (target.route == ingest_route::stream) {
        // The body is the producer's stream: read as it arrives, by its own session.
        if (req.method() != http::verb::post) {
          reply(req.version(), false, http_reply{405, R"({"error":"method not allowed"})", "POST"});
        } else if (auto refused = ingest_refusal(ctx_.cfg.ingest_key, req[http::field::authorization])) {
          reply(req.version(), false, *refused);
        } else if (!target.id) {
          reply(req.version(), false, json_error(404, "not found"));
        } else {
          start_ingest_stream(std::move(stream_), std::move(buffer_), std::move(*parser_), worker_, ctx_,
                              *target.id);
        }
        return;
      }
    }
    if (auto length = parser_->content_length(); length && *length > ctx_.cfg.max_body_bytes) {
      on_read(http::error::body_limit, 0);
      return;
    }
    parser_->body_limit(ctx_.cfg.max_body_bytes);  // a chunked body counts as it comes
    stream_.expires_after(60s);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&http_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == boost::asio::error::eof) {
      close();
      return;
    }
    if (ec == http::error::body_limit) {
      reply(11, false, json_error(413, "body exceeds " + std::to_string(ctx_.cfg.max_body_bytes) + " bytes"));
      return;
    }
    if (ec) {
      if (ec.category() == beast::http::make_error_code(http::error::bad_method).category())
        reply(11, false, json_error(400, "malformed HTTP request"));
      else
        close();
      return;
    }
    auto req = parser_->release();
    auto target = std::string(req.target());
    auto path = std::string(path_of(target));
    if (beast::websocket::is_upgrade(req)) {
      if (path == "/cable") {
        if (!valid_websocket_key(req[http::field::sec_websocket_key])) {
          reply(req.version(), false, json_error(400, "invalid Sec-WebSocket-Key"));
          return;
        }
        auto user = cable_user(ctx_.cfg.secret, req);
        auto cookie = std::string(cookie_value(req[http::field::cookie], session_cookie_name));
        if (user || cookie.empty()) {
          upgrade(std::move(req), user);
          return;
        }
        // The page's cable: the session cookie, from the page's own origin only (SPEC §13).
        if (!origin_allowed(req[http::field::origin], ctx_.cfg.allowed_origins)) {
          reply(req.version(), false, json_error(403, "origin not allowed"));
          return;
        }
        auto self = shared_from_this();
        auto held = std::make_shared<http::request<http::string_body>>(std::move(req));
        boost::asio::post(ctx_.db_workers, [self, held, cookie = std::move(cookie)] {
          std::optional<std::int64_t> u;
          try {
            u = self->ctx_.http_api.cookie_user(cookie);
          } catch (const std::exception& e) {
            log::error("cable", "session_lookup_failed", {{"error", e.what()}});
          }
          boost::asio::post(self->stream_.get_executor(),
                            [self, held, u] { self->upgrade(std::move(*held), u); });
        });
        return;
      }
      reply(req.version(), false, json_error(404, "not found"));
      return;
    }
    auto version = req.version();
    bool keep_alive = req.keep_alive();
    if (path == "/" && target.find("token=") != std::string::npos
        && (req.method() == http::verb::get || req.method() == http::verb::head)) {
      auto token = query_param(target, "token");
      if (from_another_site(req["Sec-Fetch-Site"], req[http::field::origin], req[http::field::referer],
                            ctx_.cfg.allowed_origins)) {
        // Login CSRF (SPEC §17): a link from elsewhere never replaces this browser's session.
        http_reply r{200, continue_sign_in_page(token)};
        r.content_type = "text/html; charset=utf-8";
        reply(version, keep_alive, private_page(std::move(r)));
        return;
      }
      on_database_thread(version, keep_alive, path, [token = std::move(token)](net_context& ctx) {
        return private_page(sign_in(ctx.pool, ctx.cfg.secret, token));
      });
      return;
    }
    if (path == "/signout") {
      auto cookie = std::string(cookie_value(req[http::field::cookie], session_cookie_name));
      if (req.method() != http::verb::post)
        reply(version, keep_alive, http_reply{405, R"({"error":"method not allowed"})", "POST"});
      else if (!origin_allowed(req[http::field::origin], ctx_.cfg.allowed_origins))
        reply(version, keep_alive, json_error(403, "origin not allowed"));
      else
        on_database_thread(version, keep_alive, path, [cookie = std::move(cookie)](net_context& ctx) {
          return private_page(sign_out(ctx.pool, cookie));
        });
      return;
    }
    if (path == "/healthz") {
      if (req.method() != http::verb::get && req.method() != http::verb::head)
        reply(version, keep_alive, http_reply{405, R"({"error":"method not allowed"})", "GET"});
      else if (ctx_.cfg.database_up && ctx_.cfg.database_up->load(std::memory_order_relaxed) == 0)
        reply(version, keep_alive, http_reply{503, R"({"status":"database unreachable"})", ""});
      else
        reply(version, keep_alive, http_reply{200, R"({"status":"ok"})", ""});
      return;
    }
    if (path == "/metrics") {
      auto res = std::make_shared<http::response<http::string_body>>(http::status::ok, version);
      res->set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res->keep_alive(keep_alive);
      res->body() = ctx_.stats.render();
      res->prepare_payload();
      write(std::move(res));
      return;
    }
    if (path == "/_broadcast") {
      broadcast(version, keep_alive, req);
      return;
    }
    if (path.rfind("/ingest/", 0) == 0) {
      auto target = ingest_route_of(path);
      if (target.route != ingest_route::answers) {
        reply(version, keep_alive, json_error(404, "not found"));
      } else if (req.method() != http::verb::post) {
        reply(version, keep_alive, http_reply{405, R"({"error":"method not allowed"})", "POST"});
      } else if (auto refused = ingest_refusal(ctx_.cfg.ingest_key, req[http::field::authorization])) {
        reply(version, keep_alive, *refused);
      } else {
        on_database_thread(version, keep_alive, path, [body = std::move(req.body()), id = target.id](net_context& ctx) {
          return create_ingest_answer(ctx.pool, id, body);
        });
      }
      return;
    }
    if (path.rfind("/api/", 0) == 0) {
      http_call call{std::string(req.method_string()), path, target,
                     std::string(req[http::field::authorization]), std::move(req.body()),
                     std::string(cookie_value(req[http::field::cookie], session_cookie_name)),
                     origin_allowed(req[http::field::origin], ctx_.cfg.allowed_origins)};
      on_database_thread(version, keep_alive, path, [call = std::move(call)](net_context& ctx) {
        return ctx.http_api.handle(call);
      });
      return;
    }
    if (auto file = find_static_file(ctx_.cfg.web_root, path)) {
      if (req.method() != http::verb::get && req.method() != http::verb::head) {
        reply(version, keep_alive, http_reply{405, R"({"error":"method not allowed"})", "GET"});
        return;
      }
      send_file(version, keep_alive, *file);
      return;
    }
    reply(version, keep_alive, json_error(404, "not found"));
  }

  // The WebSocket session of `user` (none: it is told it is unauthorized), within its limit.
  void upgrade(http::request<http::string_body> req, std::optional<std::int64_t> user) {
    std::optional<connection_limiter::slot> slot;
    if (user && !(slot = ctx_.connections->acquire(*user))) {
      ctx_.stats.limited_connections.fetch_add(1, std::memory_order_relaxed);
      if (auto n = ctx_.limited_log.admit("connections:" + std::to_string(*user)))
        log::warn("cable", "limited", {{"limit", "connections"}, {"user_id", *user}, {"refused", n}});
      reply(req.version(), false, json_error(429, "too many connections"));
      return;
    }
    stream_.expires_never();
    // Frames the client sent right behind its request are already in our buffer.
    auto early = beast::buffers_to_string(buffer_.data());
    std::make_shared<ws_session>(std::move(stream_), worker_, ctx_)
      ->run(std::move(req), std::move(early), user, std::move(slot));
  }

  // POST /_broadcast: to the subscribers of each named stream on every node (SPEC §11).
  void broadcast(unsigned version, bool keep_alive, const http::request<http::string_body>& req) {
    if (auto refused = ingest_refusal(ctx_.cfg.ingest_key, req[http::field::authorization])) {
      reply(version, keep_alive, *refused);
      return;
    }
    if (req.method() != http::verb::post) {
      reply(version, keep_alive, http_reply{405, R"({"error":"method not allowed"})", "POST"});
      return;
    }
    auto parsed = parse_broadcasts(req.body());
    if (auto* refused = std::get_if<http_reply>(&parsed)) {
      reply(version, keep_alive, *refused);
      return;
    }
    auto& b = std::get<broadcasts>(parsed);
    auto n = b.streams.size();
    ctx_.stats.published_total.fetch_add(n, std::memory_order_relaxed);
    if (ctx_.cfg.broadcasts && n > 0)
      caf::anon_send(ctx_.cfg.broadcasts, actors::publish_atom::value, std::move(b.streams),
                     std::move(b.messages));
    reply(version, keep_alive, http_reply{201, R"({"broadcasts":)" + std::to_string(n) + "}"});
  }

  // Runs `handle` (it blocks on PostgreSQL) on a database thread, then replies with its answer.
  template <class Handler>
  void on_database_thread(unsigned version, bool keep_alive, std::string path, Handler handle) {
    auto self = shared_from_this();
    boost::asio::post(ctx_.db_workers, [self, handle = std::move(handle), path = std::move(path), version,
                                        keep_alive]() mutable {
      http_reply r;
      try {
        r = handle(self->ctx_);
      } catch (const persistence::pg_error& e) {
        log::error("api", "database_error", {{"path", path}, {"error", e.what()}});
        r = json_error(503, "database unavailable");
      } catch (const std::exception& e) {
        log::error("api", "internal_error", {{"path", path}, {"error", e.what()}});
        r = json_error(500, "internal error");
      }
      boost::asio::post(self->stream_.get_executor(), [self, r = std::move(r), version, keep_alive] {
        self->reply(version, keep_alive, r);
      });
    });
  }

  void reply(unsigned version, bool keep_alive, const http_reply& r) {
    auto res = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(r.status), version);
    res->set(http::field::server, "actorcable");
    res->set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers)
      res->set(name, value);
    if (!r.allow.empty())
      res->set(http::field::allow, r.allow);
    if (!r.link.empty())
      res->set(http::field::link, r.link);
    if (!r.location.empty())
      res->set(http::field::location, r.location);
    if (!r.set_cookie.empty())
      res->set(http::field::set_cookie, r.set_cookie);
    if (r.retry_after_s > 0)
      res->set(http::field::retry_after, std::to_string(r.retry_after_s));
    res->keep_alive(keep_alive);
    res->body() = r.body;
    res->prepare_payload();
    write(std::move(res));
  }

  void send_file(unsigned version, bool keep_alive, const static_file& file) {
    auto res = std::make_shared<http::response<http::string_body>>(http::status::ok, version);
    res->set(http::field::server, "actorcable");
    res->set(http::field::content_type, file.content_type);
    res->set(http::field::cache_control, "no-cache");
    res->keep_alive(keep_alive);
    res->body() = file.body;
    res->prepare_payload();
    write(std::move(res));
  }

  template <class Response>
  void write(std::shared_ptr<Response> res) {
    bool keep = res->keep_alive();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep](beast::error_code ec, std::size_t) {
                        if (ec || !keep)
                          self->close();
                        else
                          self->do_read();
                      });
  }

  // The rest of a body refused with 413, for one, is read and dropped before the close.
  void close() { lingering_close(stream_, shared_from_this()); }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  io_worker& worker_;
  net_context& ctx_;
};

}  // namespace

void start_http_session(boost::asio::ip::tcp::socket socket, io_worker& worker, net_context& ctx) {
  std::make_shared<http_session>(std::move(socket), worker, ctx)->run();
}

}  // namespace actorcable::net

#include "net/api/ingest_stream.hpp"

#include "actors/ingest/ingest_job.hpp"
#include "common/log.hpp"
#include "net/api/api.hpp"
#include "net/http/lingering_close.hpp"
#include "persistence/messages_repository.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <array>

namespace actorcable::net {
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

class ingest_stream final : public actors::ingest_sink,
                            public std::enable_shared_from_this<ingest_stream> {
public:
  ingest_stream(beast::tcp_stream stream, beast::flat_buffer buffer,
                http::request_parser<http::string_body>&& parser, io_worker& worker,
                net_context& ctx, std::int64_t message_id)
    : lease_(worker), stream_(std::move(stream)), buffer_(std::move(buffer)),
      parser_(std::move(parser)), worker_(worker), ctx_(ctx), message_id_(message_id) {
    parser_.body_limit(boost::none);  // the body is a stream: its lines are bounded instead
    expect_continue_ = beast::iequals(parser_.get()[http::field::expect], "100-continue");
  }

  void run() { attach(); }

  // ingest_sink: on the job's thread, so everything goes through this connection's thread.
  void taken() override {
    boost::asio::post(worker_.ioc, [self = shared_from_this()] {
      if (!self->with_job_)
        return;
      self->with_job_ = false;
      self->next();
    });
  }
  void ended() override {
    boost::asio::post(worker_.ioc, [self = shared_from_this()] { self->job_ended(); });
  }

private:
  // On a database thread: the message must be a streaming assistant message without a
  // producer; then its stream starts with this request's job.
  void attach() {
    boost::asio::post(ctx_.db_workers, [self = shared_from_this()] {
      auto refusal = self->start_stream();
      boost::asio::post(self->worker_.ioc, [self, refusal = std::move(refusal)] {
        if (refusal)
          self->reply(*refusal);
        else
          self->begin_reading();
      });
    });
  }

  std::optional<http_reply> start_stream() {
    std::optional<model::message> row;
    try {
      auto conn = ctx_.pool.acquire();
      row = persistence::find_message(*conn, message_id_);
    } catch (const std::exception& e) {
      log::error("ingest", "database_error", {{"message_id", message_id_}, {"error", e.what()}});
      return json_error(503, "database unavailable");
    }
    if (!row)
      return json_error(404, "not found");
    if (row->role != "assistant" || !row->streaming)
      return json_error(409, "the message is not a streaming assistant message");
    auto job = ctx_.sys.spawn(actors::ingest_job, std::shared_ptr<actors::ingest_sink>(shared_from_this()));
    actors::job_spec spec;
    spec.message_id = message_id_;
    spec.chat_id = row->chat_id;
    spec.producer = job;
    std::optional<http_reply> refusal;
    caf::scoped_actor self{ctx_.sys};
    self->request(ctx_.directory, ctx_.cfg.writer_timeout + 5s, actors::ingest_atom::value, std::move(spec))
      .receive(
        [&](bool started) {
          if (!started)
            refusal = json_error(409, "a producer is streaming this message already");
        },
        [&](caf::error&) {
          refusal = json_error(409, "the message is not streaming, or another node streams it");
        });
    if (refusal) {
      caf::anon_send_exit(job, caf::exit_reason::kill);
      return refusal;
    }
    job_ = job;  // read on the connection's thread after the post that follows
    log::info("ingest", "producer_attached", {{"message_id", message_id_}});
    return std::nullopt;
  }

  void begin_reading() {
    attached_ = true;
    if (job_gone_) {  // stopped before a line was read
      job_ended();
      return;
    }
    if (!expect_continue_) {
      read();
      return;
    }
    static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
    boost::asio::async_write(stream_, boost::asio::buffer(go_on.data(), go_on.size()),
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               if (ec)
                                 self->lost("producer lost");
                               else
                                 self->read();
                             });
  }

  void read() {
    if (parser_.is_done()) {
      body_done();
      return;
    }
    parser_.get().body().data = chunk_.data();
    parser_.get().body().size = chunk_.size();
    // Silence is the message actor's to judge (streams.idle_timeout_s); this only frees a
    // connection whose stream has no one left to judge it.
    stream_.expires_after(ctx_.cfg.idle_timeout + 10s);
    reading_ = true;
    // Whatever has arrived, not a full buffer: a line is handed over as soon as it is complete.
    http::async_read_some(stream_, buffer_, parser_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            self->on_read(ec);
                          });
  }

  void on_read(beast::error_code ec) {
    reading_ = false;
    auto got = chunk_.size() - parser_.get().body().size;
    if (ec == http::error::need_buffer)
      ec = {};
    if (reading_over_)
      return;  // the stream ended while this read waited
    take_lines(std::string_view(chunk_.data(), got));
    if (ec) {
      hand_over();
      lost("producer lost");
      return;
    }
    if (!reading_over_ && parser_.is_done()) {
      body_done();
      return;
    }
    hand_over();
    next();
  }

  // The body ended: a last line without its newline is a line; without an end part the
  // producer is lost.
  void body_done() {
    if (!partial_.empty() && !reading_over_) {
      std::string last;
      last.swap(partial_);
      take_line(last);
    }
    hand_over();
    if (!reading_over_)
      lost("producer lost");
  }

  // Reads on unless the job still has lines or reading is over.
  void next() {
    if (!with_job_ && !reading_over_ && !job_gone_)
      read();
  }

  void take_lines(std::string_view data) {
    while (!data.empty() && !reading_over_) {
      auto nl = data.find('\n');
      auto piece = data.substr(0, nl);
      if (partial_.size() + piece.size() > ctx_.cfg.max_frame_bytes) {
        invalid(line_no_ + 1, "longer than " + std::to_string(ctx_.cfg.max_frame_bytes) + " bytes");
        return;
      }
      if (nl == std::string_view::npos) {
        partial_.append(piece);
        return;
      }
      partial_.append(piece);
      std::string line;
      line.swap(partial_);
      take_line(line);
      data.remove_prefix(nl + 1);
    }
  }

  void take_line(std::string& line) {
    ++line_no_;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) {
      keep_alive_ = true;  // a blank line is no part, but it says the producer is there
      return;
    }
    auto parsed = actors::parse_ingest_part(line);
    if (auto* why = std::get_if<std::string>(&parsed)) {
      invalid(line_no_, *why);
      return;
    }
    auto& part = std::get<actors::ingest_part>(parsed);
    bool end = part.type == actors::ingest_part::kind::end;
    batch_.push_back(std::move(part));
    if (end)
      reading_over_ = true;  // whatever follows the end is not read
  }

  void invalid(std::int64_t line, const std::string& why) {
    hand_over();
    invalid_ = true;
    lost("invalid part at line " + std::to_string(line) + ": " + why);
  }

  void hand_over() {
    if (job_gone_)
      return;
    if (batch_.empty()) {
      if (keep_alive_ && !with_job_)
        caf::anon_send(job_, actors::ingest_alive_atom::value);
      keep_alive_ = false;
      return;
    }
    keep_alive_ = false;
    with_job_ = true;
    caf::anon_send(job_, actors::ingest_parts_atom::value, std::move(batch_));
    batch_.clear();
  }

  void lost(std::string reason) {
    reading_over_ = true;
    if (!job_gone_)
      caf::anon_send(job_, actors::ingest_lost_atom::value, std::move(reason));
  }

  // The job is gone, so the stream has ended or is ending: answer with its outcome once stored.
  void job_ended() {
    job_gone_ = true;
    reading_over_ = true;
    if (!attached_ || replied_)
      return;
    boost::asio::post(ctx_.db_workers, [self = shared_from_this()] {
      http_reply r = self->outcome();
      boost::asio::post(self->worker_.ioc, [self, r = std::move(r)] { self->reply(r); });
    });
  }

  http_reply outcome() {
    http_reply r = json_error(500, "the stream's outcome is unknown");
    caf::scoped_actor self{ctx_.sys};
    self->request(ctx_.directory, ctx_.cfg.writer_timeout + 5s, actors::outcome_atom::value, message_id_)
      .receive(
        [&](model::stream_status ended, std::int64_t bytes, std::int64_t parts) {
          auto status = model::to_string(ended);
          json::object out;
          out["id"] = model::encode_id(model::model_kind::message, message_id_);
          out["status"] = status;
          out["content_length"] = bytes;
          out["offset"] = parts;
          log::info("ingest", "producer_done",
                    {{"message_id", message_id_}, {"status", status}, {"parts", parts}});
          r = http_reply{invalid_ ? 400u : 200u, json::serialize(out)};
        },
        [&](caf::error& e) {
          log::error("ingest", "outcome_unknown", {{"message_id", message_id_}, {"error", caf::to_string(e)}});
        });
    return r;
  }

  void reply(const http_reply& r) {
    if (replied_)
      return;
    replied_ = true;
    reading_over_ = true;
    if (reading_)
      stream_.cancel();  // a read still waits for the producer: it ends, unread
    auto res = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(r.status), parser_.get().version());
    res->set(http::field::server, "actorcable");
    res->set(http::field::content_type, "application/json");
    res->keep_alive(false);  // the rest of the body (if any) is not read
    res->body() = r.body;
    res->prepare_payload();
    stream_.expires_after(10s);
    // What the producer still sends is read and dropped before the close.
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, std::size_t) {
      lingering_close(self->stream_, self);
    });
  }

  worker_lease lease_;  // first: released last, after the socket
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::buffer_body> parser_;
  io_worker& worker_;
  net_context& ctx_;
  std::int64_t message_id_;
  bool expect_continue_ = false;
  caf::actor job_;
  std::array<char, 16 * 1024> chunk_{};
  std::string partial_;  // the start of a line whose newline has not come yet
  std::int64_t line_no_ = 0;
  std::vector<actors::ingest_part> batch_;
  bool attached_ = false;      // the stream started with this request's job
  bool with_job_ = false;      // lines handed over and not yet taken
  bool reading_over_ = false;  // end part, invalid line, lost producer or reply: read no more
  bool job_gone_ = false;
  bool invalid_ = false;       // answer 400
  bool keep_alive_ = false;    // a blank line came since the last hand-over
  bool replied_ = false;
  bool reading_ = false;  // a read of the body is under way
};

}  // namespace

void start_ingest_stream(beast::tcp_stream stream, beast::flat_buffer buffer,
                         http::request_parser<http::string_body>&& parser, io_worker& worker,
                         net_context& ctx, std::int64_t message_id) {
  std::make_shared<ingest_stream>(std::move(stream), std::move(buffer), std::move(parser), worker, ctx,
                                  message_id)
    ->run();
}

}  // namespace actorcable::net

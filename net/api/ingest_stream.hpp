// POST /ingest/messages/:oid/stream (SPEC §11): an outside producer streams a message's parts as
// NDJSON, one part per line, read as it arrives (chunked or not, no bound on the body, each line
// at most max_frame_bytes). The request is represented by an ingest job actor
// (actors/ingest/ingest_job), the message actor's job: lines go to it a read at a time, and the
// next read waits until the message actor has taken them, so a fast producer is held back by TCP
// instead of filling memory. The response comes once the stream has ended, however it ended.
#pragma once
#include "net/io_worker.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace actorcable::net {

// Takes over the connection once the request's headers are read (and the key checked).
void start_ingest_stream(boost::beast::tcp_stream stream, boost::beast::flat_buffer buffer,
                         boost::beast::http::request_parser<boost::beast::http::string_body>&& parser,
                         io_worker& worker, net_context& ctx, std::int64_t message_id);

}  // namespace actorcable::net

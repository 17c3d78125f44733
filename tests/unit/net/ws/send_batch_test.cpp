// Batched sends through io_uring on real sockets: one result per send (the bytes taken, or
// -errno), nothing left in flight after flush(), batches larger than the ring.
#define CAF_SUITE send_batch
#include "test_dsl.hpp"

#include "net/ws/send_batch.hpp"
#include "sockets.hpp"

#include <cerrno>
#include <string>

using namespace actorcable::net;
using actorcable::testing::socket_pair;

namespace {

long result_of(const std::vector<send_batch::result>& results, void* tag) {
  for (auto& r : results)
    if (r.tag == tag)
      return r.value;
  CAF_FAIL("no result for a send");
  return 0;
}

}  // namespace

CAF_TEST(every send gets one result: the bytes taken or the error) {
  send_batch batch(8);
  CAF_REQUIRE(batch.ok());  // io_uring is available on the machines this is built for
  socket_pair idle, full, closed;
  full.fill();
  close(closed.fd[1]);
  closed.fd[1] = -1;
  std::string hello = "hello", world = "world";
  int a, b, c;
  batch.add(idle.fd[0], hello.data(), hello.size(), &a);
  batch.add(full.fd[0], world.data(), world.size(), &b);
  batch.add(closed.fd[0], world.data(), world.size(), &c);
  CAF_CHECK(!batch.empty());
  auto& results = batch.flush();
  CAF_REQUIRE_EQUAL(results.size(), 3u);
  CAF_CHECK_EQUAL(result_of(results, &a), 5);
  CAF_CHECK_EQUAL(result_of(results, &b), -EAGAIN);  // not left waiting in the kernel
  CAF_CHECK_EQUAL(result_of(results, &c), -EPIPE);
  CAF_CHECK(batch.empty());
  CAF_CHECK_EQUAL(idle.read_all(), "hello");
}

CAF_TEST(sends beyond the ring go out across flushes) {
  send_batch batch(4);
  CAF_REQUIRE(batch.ok());
  // One send per socket, as a thread's batch holds at most one frame per connection.
  std::vector<socket_pair> sockets(10);
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < sockets.size(); ++i)
    parts.push_back("part " + std::to_string(i));
  std::size_t results = 0;
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    if (batch.full())
      results += batch.flush().size();
    batch.add(sockets[i].fd[0], parts[i].data(), parts[i].size(), &sockets[i]);
  }
  results += batch.flush().size();
  CAF_CHECK_EQUAL(results, sockets.size());
  for (std::size_t i = 0; i < sockets.size(); ++i)
    CAF_CHECK_EQUAL(sockets[i].read_all(), parts[i]);
}

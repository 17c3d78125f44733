#include "net/ws/send_batch.hpp"

#include <liburing.h>

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>

namespace actorcable::net {

struct send_batch::ring {
  io_uring uring{};
  ~ring() { io_uring_queue_exit(&uring); }
};

send_batch::send_batch(unsigned capacity) : capacity_(capacity) {
  auto r = std::make_unique<ring>();
  if (io_uring_queue_init(capacity, &r->uring, 0) < 0)
    return;  // not available here: ok() is false
  ring_ = std::move(r);
  results_.reserve(capacity);
}

send_batch::~send_batch() = default;

void send_batch::add(int fd, const void* data, std::size_t len, void* tag) {
  auto* sqe = io_uring_get_sqe(&ring_->uring);
  io_uring_prep_send(sqe, fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  io_uring_sqe_set_data(sqe, tag);
  tags_.push_back(tag);
}

const std::vector<send_batch::result>& send_batch::flush() {
  results_.clear();
  if (tags_.empty())
    return results_;
  auto* u = &ring_->uring;
  int submitted;
  do
    submitted = io_uring_submit_and_wait(u, static_cast<unsigned>(tags_.size()));
  while (submitted == -EINTR);
  for (int seen = 0; submitted > 0 && seen < submitted;) {
    io_uring_cqe* cqe = nullptr;
    int rc = io_uring_wait_cqe(u, &cqe);
    if (rc == -EINTR)
      continue;
    if (rc < 0)
      break;
    results_.push_back({io_uring_cqe_get_data(cqe), static_cast<long>(cqe->res)});
    io_uring_cqe_seen(u, cqe);
    ++seen;
  }
  if (results_.size() < tags_.size()) {
    // The ring failed (it should not: these sends complete inside the call). It is not used
    // again, and every send without a result reports one: not submitted, the socket took
    // nothing (the caller writes the frame itself); submitted but unanswered, a write error
    // (the connection closes, as its stream's state is unknown).
    std::vector<void*> answered;
    for (auto& r : results_)
      answered.push_back(r.tag);
    std::sort(answered.begin(), answered.end());
    for (auto* tag : tags_)
      if (!std::binary_search(answered.begin(), answered.end(), tag))
        results_.push_back({tag, submitted > 0 ? -EIO : -EAGAIN});
    ring_.reset();
  }
  tags_.clear();
  return results_;
}

}  // namespace actorcable::net

// One I/O thread's batched socket sends (io_uring): a chunk fanned out to a thousand idle
// connections costs one system call instead of a thousand. Each send is non-blocking
// (MSG_DONTWAIT): it completes inside the submitting call with the bytes the socket took, or
// -EAGAIN when it took none, so nothing is left in flight in the kernel and the caller keeps
// the order of its frames. Where io_uring is not available (an old kernel, a sandbox that
// forbids it) ok() is false and the caller writes to each socket itself.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

namespace actorcable::net {

class send_batch {
public:
  explicit send_batch(unsigned capacity = 1024);
  ~send_batch();
  send_batch(const send_batch&) = delete;
  send_batch& operator=(const send_batch&) = delete;

  bool ok() const { return ring_ != nullptr; }
  bool empty() const { return tags_.empty(); }
  bool full() const { return tags_.size() == capacity_; }

  // Adds a send of `len` bytes at `data` to socket `fd`; the bytes must stay valid until
  // flush(). `tag` comes back with the result. Not when full().
  void add(int fd, const void* data, std::size_t len, void* tag);

  struct result {
    void* tag;
    long value;  // bytes sent, or -errno (-EAGAIN: the socket took nothing)
  };
  // Submits everything added in one system call and returns each send's result (one per
  // add(), in no particular order), valid until the next flush().
  const std::vector<result>& flush();

private:
  struct ring;
  std::unique_ptr<ring> ring_;
  unsigned capacity_;
  std::vector<void*> tags_;  // of the sends added since the last flush
  std::vector<result> results_;
};

}  // namespace actorcable::net

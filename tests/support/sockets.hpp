// Real sockets and wire bytes for the WebSocket unit suites.
#pragma once
#include "net/ws/ws_frames.hpp"
#include "test_dsl.hpp"

#include <array>
#include <fcntl.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace actorcable::testing {

// A connected pair of non-blocking stream sockets: the server writes to fd[0], the client
// reads fd[1].
struct socket_pair {
  int fd[2] = {-1, -1};
  socket_pair() {
    CAF_REQUIRE_EQUAL(socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0);
    fcntl(fd[0], F_SETFL, O_NONBLOCK);
    fcntl(fd[1], F_SETFL, O_NONBLOCK);
  }
  socket_pair(const socket_pair&) = delete;
  ~socket_pair() {
    for (int f : fd)
      if (f >= 0)
        close(f);
  }
  // Everything the client end can read now.
  std::string read_all() {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = read(fd[1], buf, sizeof buf)) > 0;)
      out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
  // Writes to the server end until its socket takes nothing more.
  void fill() {
    std::string junk(65536, 'j');
    while (write(fd[0], junk.data(), junk.size()) > 0) {
    }
  }
};

// A text frame as a server puts it on the wire: header, then the text.
inline std::string text_frame_wire(const std::string& text) {
  std::array<unsigned char, 10> header;
  auto n = net::ws_header(header, net::ws_opcode::text, text.size());
  return std::string(reinterpret_cast<const char*>(header.data()), n) + text;
}

}  // namespace actorcable::testing

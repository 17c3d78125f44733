// OpenSSL requires the thread's error queue to be empty before an SSL I/O call, or
// SSL_get_error() misreads the call's outcome. CAF 0.17.6's openssl module drains the queue
// only inside its log statements, which Debian's build compiles out: after one failed handshake
// (any stranger on the cluster port) the next WANT_READ of a healthy peer's connection on the
// same thread reads as a failure and CAF drops that peer. These definitions in the executable
// interpose the four calls CAF's session makes and clear the queue first, as OpenSSL's manual
// asks (Asio, used for the providers' TLS, does the same itself, so it is unaffected).
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdlib>

namespace {

template <class Fn>
Fn next_definition(const char* name) {
  auto fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
  if (!fn)
    std::abort();  // libssl is linked in: a missing definition cannot happen
  return fn;
}

}  // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto real = next_definition<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto real = next_definition<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static const auto real = next_definition<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

int SSL_connect(SSL* ssl) {
  static const auto real = next_definition<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

}  // extern "C"

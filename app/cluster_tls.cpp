#include "app/cluster_tls.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <cstdio>
#include <functional>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <sys/stat.h>

namespace actorcable::app {
namespace {

template <class T, void (*Free)(T*)>
struct deleter {
  void operator()(T* p) const { Free(p); }
};
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using ctx_ptr = std::unique_ptr<SSL_CTX, deleter<SSL_CTX, SSL_CTX_free>>;
using store_ptr = std::unique_ptr<X509_STORE, deleter<X509_STORE, X509_STORE_free>>;
using store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

std::string ssl_error() {
  std::string out;
  while (auto e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += out.empty() ? "" : "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + ssl_error());
}

x509_ptr read_cert(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "r"), &std::fclose);
  if (!f)
    return nullptr;
  return x509_ptr(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
}

pkey_ptr read_key(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "r"), &std::fclose);
  if (!f)
    return nullptr;
  return pkey_ptr(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr));
}

void write_pem(const std::string& path, bool secret, const std::function<int(FILE*)>& write) {
  // A key is created with mode 0600 from the start, never readable by others for a moment.
  auto old = umask(secret ? 077 : 022);
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "w"), &std::fclose);
  umask(old);
  if (!f)
    throw std::runtime_error("cannot write " + path);
  if (write(f.get()) != 1)
    fail("cannot write " + path);
  if (secret)
    chmod(path.c_str(), 0600);
}

pkey_ptr new_key() {
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key)
    fail("cannot make a key");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, deleter<X509_EXTENSION, X509_EXTENSION_free>> ext(
    X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    fail("cannot add a certificate extension");
}

// A certificate for `name` with `key`, signed by `issuer` with `issuer_key` (itself when null).
x509_ptr make_cert(const std::string& name, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                   long days, bool ca) {
  x509_ptr cert(X509_new());
  if (!cert)
    fail("cannot make a certificate");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  std::unique_ptr<BIGNUM, deleter<BIGNUM, BN_free>> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  auto* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("actorcable cluster"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (ca) {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid");
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
    add_ext(cert.get(), signer, NID_subject_alt_name, ("DNS:" + name).c_str());
  }
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0)
    fail("cannot sign the certificate of " + name);
  return cert;
}

bool valid_node_name(const std::string& n) {
  if (n.empty() || n.size() > 63 || n == "ca")
    return false;
  for (unsigned char c : n)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.')
      return false;
  return n.front() != '.';
}

}  // namespace

std::optional<std::string> check_cluster_tls(const cluster_tls_files& files) {
  ERR_clear_error();
  auto cert = read_cert(files.cert);
  if (!cert)
    return "cluster.tls_cert (ACTORCABLE_CLUSTER_TLS_CERT): cannot read a PEM certificate from '"
           + files.cert + "'";
  auto key = read_key(files.key);
  if (!key)
    return "cluster.tls_key (ACTORCABLE_CLUSTER_TLS_KEY): cannot read an unencrypted PEM private key from '"
           + files.key + "'";
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    return "cluster.tls_key (ACTORCABLE_CLUSTER_TLS_KEY) is not the key of cluster.tls_cert";
  store_ptr store(X509_STORE_new());
  if (X509_STORE_load_file(store.get(), files.ca.c_str()) != 1)
    return "cluster.tls_ca (ACTORCABLE_CLUSTER_TLS_CA): cannot read PEM certificates from '"
           + files.ca + "'";
  store_ctx_ptr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr);
  if (X509_verify_cert(ctx.get()) != 1)
    return std::string("cluster.tls_cert (ACTORCABLE_CLUSTER_TLS_CERT) is not valid under cluster.tls_ca: ")
           + X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  ERR_clear_error();
  return std::nullopt;
}

void make_cluster_certs(const std::string& dir, const std::vector<std::string>& nodes) {
  for (auto& n : nodes)
    if (!valid_node_name(n))
      throw std::runtime_error("node name '" + n + "': letters, digits, '-', '_' and '.' only");
  std::filesystem::create_directories(dir);
  auto ca_pem = dir + "/ca.pem", ca_key_path = dir + "/ca.key";
  x509_ptr ca;
  pkey_ptr ca_key;
  if (std::filesystem::exists(ca_pem) && std::filesystem::exists(ca_key_path)) {
    ca = read_cert(ca_pem);
    ca_key = read_key(ca_key_path);
    if (!ca || !ca_key || X509_check_private_key(ca.get(), ca_key.get()) != 1)
      fail("cannot reuse " + ca_pem + " and " + ca_key_path);
  } else {
    ca_key = new_key();
    ca = make_cert("actorcable cluster CA", ca_key.get(), nullptr, nullptr, 3650, true);
    write_pem(ca_key_path, true, [&](FILE* f) {
      return PEM_write_PrivateKey(f, ca_key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    write_pem(ca_pem, false, [&](FILE* f) { return PEM_write_X509(f, ca.get()); });
  }
  for (auto& n : nodes) {
    auto key = new_key();
    auto cert = make_cert(n, key.get(), ca.get(), ca_key.get(), 825, false);
    write_pem(dir + "/" + n + ".key", true, [&](FILE* f) {
      return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    write_pem(dir + "/" + n + ".pem", false, [&](FILE* f) { return PEM_write_X509(f, cert.get()); });
  }
}

}  // namespace actorcable::app

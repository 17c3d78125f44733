// The cluster's mutual TLS (SPEC §17): `actorcable cluster-certs` makes a CA and one key and
// certificate per node; `serve` checks the configured files before CAF's openssl module reads
// them (it throws from inside its multiplexer on a file it cannot load).
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace actorcable::app {

struct cluster_tls_files {
  std::string cert;  // cluster.tls_cert: this node's certificate (PEM)
  std::string key;   // cluster.tls_key: its private key (PEM, unencrypted)
  std::string ca;    // cluster.tls_ca: the CA whose certificates peers must present
  bool enabled() const { return !cert.empty(); }
};

// Why the files cannot serve as this node's identity (unreadable, not PEM, the key not the
// certificate's, the certificate not signed by the CA or expired), or none.
std::optional<std::string> check_cluster_tls(const cluster_tls_files& files);

// Writes DIR/ca.pem and DIR/ca.key (kept and reused when both exist, so nodes can be added
// later) and DIR/<node>.pem, DIR/<node>.key for each node (keys readable by their owner only).
// Throws std::runtime_error naming what failed.
void make_cluster_certs(const std::string& dir, const std::vector<std::string>& nodes);

}  // namespace actorcable::app

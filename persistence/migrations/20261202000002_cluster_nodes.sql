-- Cluster membership (SPEC §12): each node registers the address of its middleman here and
-- renews it; peers are the rows renewed within the lease.
CREATE TABLE cluster_nodes (
  name         text PRIMARY KEY,
  address      text NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

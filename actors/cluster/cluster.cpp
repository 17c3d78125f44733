#include "actors/cluster/cluster.hpp"

#include "actors/errors.hpp"
#include "actors/cluster/relay.hpp"
#include "common/host_port.hpp"
#include "common/log.hpp"

namespace actorcable::actors {
namespace {

using self_ptr = caf::stateful_actor<cluster_state>*;
using dial_atom = caf::atom_constant<caf::atom("dial")>;

void set_peer_gauge(self_ptr self, const cluster_config& cfg) {
  if (cfg.metrics)
    cfg.metrics->cluster_peers.store(static_cast<std::int64_t>(self->state.peers.size()));
}

void add_peer(self_ptr self, const cluster_config& cfg, const std::string& name,
              const caf::actor& member) {
  auto& st = self->state;
  if (name == cfg.node) {
    log::error("cluster", "peer_has_our_name", {{"node", name}});
    return;
  }
  // Whenever a peer introduces itself (again: it may have been cut off while this node kept its
  // entry), it is told this node's streams, so that it finds those it missed (SPEC §12).
  if (st.directory)
    self->send(st.directory, hello_atom::value, member);
  auto& slot = st.peers[name];
  if (slot == member)
    return;
  slot = member;
  self->monitor(member);
  set_peer_gauge(self, cfg);
  log::info("cluster", "peer_connected", {{"node", cfg.node}, {"peer", name}});
}

// A node counts as a member only while its row in cluster_nodes is renewed (SPEC §17): a
// process that reached the cluster port, or a node whose lease lapsed, is not one.
bool listed(self_ptr self, const std::string& name) {
  return self->state.listed_names.count(name) > 0;
}

// Whether the message being handled comes from this node or from a peer that introduced itself.
bool from_member(self_ptr self) {
  auto& sender = self->current_sender();
  if (!sender || sender->node() == self->node())
    return true;
  for (auto& [name, member] : self->state.peers)
    if (member.node() == sender->node())
      return true;
  return false;
}

// Dials `text` and retries every retry_interval while it is a target (fixed, or still listed).
void dial(self_ptr self, const cluster_config& cfg, const std::string& text) {
  auto& targets = self->state.targets;
  auto t = targets.find(text);
  if (t == targets.end())
    return;
  if (!t->second.fixed && !t->second.listed) {
    targets.erase(t);
    return;
  }
  t->second.dialing = true;
  auto addr = t->second.address;
  auto retry = [=] { self->delayed_send(self, cfg.retry_interval, dial_atom::value, text); };
  self->request(cfg.middleman, std::chrono::seconds(5), caf::connect_atom::value, addr.host, addr.port)
    .then(
      [=](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
        auto member = caf::actor_cast<caf::actor>(ptr);
        if (!member) {
          retry();
          return;
        }
        self->request(member, std::chrono::seconds(5), hello_atom::value, cfg.node,
                      caf::actor_cast<caf::actor>(self))
          .then(
            [=](std::string& name) {
              if (!listed(self, name)) {
                log::debug("cluster", "peer_not_listed", {{"peer", text}, {"node", name}});
                retry();
                return;
              }
              self->state.dialed[member.address()] = text;
              if (auto t = self->state.targets.find(text); t != self->state.targets.end())
                t->second.dialing = false;
              add_peer(self, cfg, name, member);
            },
            [=](caf::error&) { retry(); });
      },
      [=](caf::error& err) {
        log::debug("cluster", "dial_failed", {{"peer", text}, {"error", caf::to_string(err)}});
        retry();
      });
}

// Dials `text` unless a dial of it is under way already.
void start_dial(self_ptr self, const cluster_config& cfg, const std::string& text) {
  auto t = self->state.targets.find(text);
  if (t != self->state.targets.end() && !t->second.dialing)
    dial(self, cfg, text);
}

void update_members(self_ptr self, const cluster_config& cfg, const std::vector<std::string>& names,
                    const std::vector<std::string>& addresses, bool complete) {
  auto& st = self->state;
  std::set<std::string> live(names.begin(), names.end());
  // Right after a database outage a peer may not have renewed its row yet: nobody is dropped
  // until this node has had the database for a full lease (SPEC §17).
  if (!complete)
    live.insert(st.listed_names.begin(), st.listed_names.end());
  for (auto& name : st.listed_names) {
    if (live.count(name))
      continue;
    if (auto p = st.peers.find(name); p != st.peers.end()) {
      // Its heartbeat stopped (paused, or cut off from the database): not asked about streams.
      log::warn("cluster", "peer_lost", {{"node", cfg.node}, {"peer", name}, {"reason", "lease expired"}});
      st.peers.erase(p);
      set_peer_gauge(self, cfg);
    }
  }
  st.listed_names = std::move(live);
  for (auto& [text, target] : st.targets)
    target.listed = false;
  auto& not_peers = st.not_peers;
  std::set<std::string> waiting;
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    auto& text = addresses[i];
    auto addr = split_host_port(text, false);
    if (!addr) {
      log::warn("cluster", "bad_member_address", {{"address", text}});
      continue;
    }
    auto t = st.targets.try_emplace(text, dial_target{{addr->first, addr->second}, false, true}).first;
    t->second.listed = true;
    // A listed node that is not a peer (new, or dropped when its lease lapsed while its
    // connection lasted) is dialed: CAF hands back the connection if it still stands, and the
    // hello makes it a peer again. Of two nodes the one with the smaller name dials first (two
    // connections dialed at once between two nodes can cut each other); the other waits a
    // round for it, then dials too.
    auto& name = names[i];
    if (st.peers.count(name))
      continue;
    if (name > cfg.node || not_peers.count(name))
      start_dial(self, cfg, text);
    waiting.insert(name);
  }
  st.not_peers = std::move(waiting);
}

caf::actor relay_for(self_ptr self, const cluster_config& cfg, std::int64_t id,
                     const caf::actor& origin) {
  auto& relays = self->state.relays;
  if (auto i = relays.find(id); i != relays.end())
    return i->second;
  // Kept untyped: its handle travels in replies whose handlers take a caf::actor.
  auto r = caf::actor_cast<caf::actor>(self->spawn(
    relay, id, caf::actor_cast<message_actor_actor>(origin), cfg.takeover_wait, cfg.metrics));
  self->monitor(r);
  relays.emplace(id, r);
  return r;
}

// Calls `done` with this node's relay of message `id` once one peer says the message's actor
// lives there, or with an invalid handle when none does.
void locate(self_ptr self, const cluster_config& cfg, std::int64_t id,
            std::function<void(const caf::actor&)> done) {
  auto& st = self->state;
  if (auto i = st.relays.find(id); i != st.relays.end()) {
    done(i->second);
    return;
  }
  auto& waiting = st.finding[id];
  waiting.push_back(std::move(done));
  if (waiting.size() > 1)
    return;  // a search is under way
  auto finish = [=](const caf::actor& origin) {
    auto& st = self->state;
    auto w = st.finding.find(id);
    if (w == st.finding.end())
      return;
    auto callbacks = std::move(w->second);
    st.finding.erase(w);
    caf::actor r = origin ? relay_for(self, cfg, id, origin) : caf::actor{};
    for (auto& cb : callbacks)
      cb(r);
  };
  if (st.peers.empty()) {
    finish(caf::actor{});
    return;
  }
  auto unanswered = std::make_shared<std::size_t>(st.peers.size());
  for (auto& [name, member] : st.peers)
    self->request(member, cfg.find_timeout, find_atom::value, id)
      .then(
        [=](caf::actor& origin) {
          if (origin)
            finish(origin);
          else if (--*unanswered == 0)
            finish(caf::actor{});
        },
        [=](caf::error&) {
          if (--*unanswered == 0)
            finish(caf::actor{});
        });
}

}  // namespace

caf::behavior cluster(self_ptr self, cluster_config cfg) {
  for (auto& p : cfg.peers) {
    self->state.targets[p.text()] = dial_target{p, true, false};
    dial(self, cfg, p.text());
  }
  // Relays would otherwise keep their history (and the actor system) alive past a shutdown.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& [id, r] : self->state.relays)
      self->send_exit(r, msg.reason);
    self->quit(msg.reason);
  });
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto i = st.relays.begin(); i != st.relays.end(); ++i)
      if (i->second == msg.source) {
        st.relays.erase(i);
        return;
      }
    for (auto i = st.peers.begin(); i != st.peers.end(); ++i)
      if (i->second == msg.source) {
        log::warn("cluster", "peer_lost", {{"node", cfg.node}, {"peer", i->first},
                                           {"reason", caf::to_string(msg.reason)}});
        st.peers.erase(i);
        set_peer_gauge(self, cfg);
        break;
      }
    if (auto d = st.dialed.find(msg.source); d != st.dialed.end()) {
      auto text = d->second;
      st.dialed.erase(d);
      if (auto t = st.targets.find(text); t != st.targets.end())
        t->second.dialing = true;  // the dial below is under way
      self->delayed_send(self, cfg.retry_interval, dial_atom::value, text);
    }
  });
  return {
    [=](caf::put_atom, caf::actor& directory) {
      self->state.directory = caf::actor_cast<directory_actor>(directory);
    },
    [=](dial_atom, const std::string& text) { dial(self, cfg, text); },
    [=](members_atom, const std::vector<std::string>& names, const std::vector<std::string>& addresses,
        bool complete) {
      update_members(self, cfg, names, addresses, complete);
    },
    [=](hello_atom, std::string& name, caf::actor& member) -> caf::result<std::string> {
      if (!listed(self, name)) {
        log::info("cluster", "peer_refused", {{"node", cfg.node}, {"peer", name.substr(0, 64)},
                                              {"reason", "no live row in cluster_nodes"}});
        return make_error(errc::not_member, "not a live member: " + name.substr(0, 64));
      }
      add_peer(self, cfg, name, member);
      return cfg.node;
    },
    [=](caf::get_atom) {
      std::vector<std::string> names;
      for (auto& [name, member] : self->state.peers)
        names.push_back(name);
      return names;
    },
    [=](find_atom, std::int64_t id) -> caf::result<caf::actor> {
      if (!from_member(self))
        return caf::actor{};
      self->delegate(self->state.directory, find_atom::value, id);
      return caf::delegated<caf::actor>{};
    },
    [=](caf::subscribe_atom, std::int64_t id, caf::actor& sub, catchup& c)
      -> caf::result<caf::actor, bool> {
      auto rp = self->make_response_promise<caf::actor, bool>();
      locate(self, cfg, id, [=](const caf::actor& r) mutable {
        if (r)
          rp.delegate(r, caf::subscribe_atom::value, sub, c);
        else
          rp.deliver(caf::actor{}, false);
      });
      return rp;
    },
    [=](caf::unsubscribe_atom, std::int64_t id, caf::actor& sub) {
      if (auto i = self->state.relays.find(id); i != self->state.relays.end())
        self->send(i->second, caf::unsubscribe_atom::value, std::move(sub));
    },
    [=](cancel_atom, std::int64_t id) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      locate(self, cfg, id, [=](const caf::actor& r) mutable {
        if (r)
          rp.delegate(r, cancel_atom::value);
        else
          rp.deliver(false);
      });
      return rp;
    },
    [=](await_end_atom, std::int64_t id, bool cancel) -> caf::result<std::string> {
      auto rp = self->make_response_promise<std::string>();
      locate(self, cfg, id, [=](const caf::actor& r) mutable {
        if (r)
          rp.delegate(r, await_end_atom::value, cancel);
        else
          rp.deliver(make_error(errc::no_stream, "no node streams message " + std::to_string(id)));
      });
      return rp;
    },
    [=](stream_started_atom, std::int64_t chat_id, std::int64_t id, caf::actor& origin) {
      for (auto& [name, member] : self->state.peers)
        self->send(member, chat_stream_atom::value, chat_id, id, origin);
    },
    [=](chat_stream_atom, std::int64_t chat_id, std::int64_t id, caf::actor& origin) {
      if (self->state.directory && from_member(self))
        self->send(self->state.directory, chat_stream_atom::value, chat_id, id, origin);
    },
    [=](relay_atom, std::int64_t id, caf::actor& origin) {
      return relay_for(self, cfg, id, origin);
    },
    [=](publish_atom, const std::vector<std::string>& streams,
        const std::vector<std::string>& messages) {
      for (auto& [name, member] : self->state.peers)
        self->send(member, broadcast_atom::value, streams, messages);
    },
    [=](handover_atom, const std::vector<std::int64_t>& ids) {
      auto& peers = self->state.peers;  // by name: every node picks the same peer for an id
      if (peers.empty())
        return;  // their leases have ended: a node that comes later takes them
      std::vector<std::vector<std::int64_t>> share(peers.size());
      for (auto id : ids)
        share[static_cast<std::size_t>(id) % peers.size()].push_back(id);
      std::size_t k = 0;
      for (auto& [name, member] : peers) {
        if (!share[k].empty()) {
          log::info("cluster", "handover", {{"node", cfg.node}, {"peer", name},
                                            {"streams", share[k].size()}});
          self->send(member, take_atom::value, share[k]);
        }
        ++k;
      }
    },
    [=](take_atom, std::vector<std::int64_t>& ids) {
      if (self->state.directory && from_member(self))
        self->send(self->state.directory, take_atom::value, std::move(ids));
    },
    [=](broadcast_atom, std::vector<std::string>& streams, std::vector<std::string>& messages) {
      if (cfg.hub && from_member(self))
        self->send(cfg.hub, broadcast_atom::value, std::move(streams), std::move(messages));
    },
  };
}

}  // namespace actorcable::actors

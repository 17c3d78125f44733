#include "actors/stream/directory.hpp"

#include "actors/errors.hpp"
#include "actors/stream/chat_actor.hpp"

#include <functional>

namespace actorcable::actors {
namespace {

using self_ptr = directory_actor::stateful_pointer<directory_state>;

// Hands the request being handled to a dynamically typed actor, whose answer goes to its sender.
template <class... Rs, class... Ts>
caf::result<Rs...> pass_on(self_ptr self, const caf::actor& to, Ts&&... xs) {
  auto rp = self->make_response_promise();
  rp.delegate(to, std::forward<Ts>(xs)...);
  return caf::delegated<Rs...>{};
}

// A stream of another node is kept as its origin's handle until something here follows it (a
// chat actor lists it, or a connection subscribes): only then does the cluster make this node's
// relay of it, so a node holds no relay, and no events cross to it, for answers nobody here
// watches. Calls `then` with the relay (invalid when none could be made).
void relay_of(self_ptr self, std::int64_t id, std::function<void(const caf::actor&)> then) {
  auto& st = self->state;
  auto i = st.streams.find(id);
  if (i == st.streams.end() || !i->second.remote || i->second.relayed || !st.cluster) {
    then(i != st.streams.end() && i->second.relayed ? i->second.actor : caf::actor{});
    return;
  }
  self->request(st.cluster, std::chrono::seconds(5), relay_atom::value, id, i->second.actor)
    .then(
      [=](caf::actor& r) {
        auto& st = self->state;
        auto i = st.streams.find(id);
        if (r && i != st.streams.end() && i->second.remote && !i->second.relayed) {
          auto origin = i->second.actor;
          self->demonitor(origin);
          i->second.actor = r;
          i->second.relayed = true;
          self->monitor(r);
          // The cluster may have made the relay earlier (for a subscriber), pointed elsewhere.
          tell(self, r, origin_atom::value, origin);
          if (auto chat = st.chats.find(i->second.chat_id); chat != st.chats.end())
            self->send(chat->second, stream_started_atom::value, id, r);
        }
        then(i != st.streams.end() && i->second.relayed ? i->second.actor : caf::actor{});
      },
      [=](caf::error&) { then(caf::actor{}); });
}

}  // namespace

directory_actor::behavior_type directory(self_ptr self, message_actor_config cfg,
                                         stream_writer_actor writer, job_launcher launch) {
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto i = st.streams.begin(); i != st.streams.end(); ++i) {
      if (i->second.actor == msg.source) {
        st.streams.erase(i);
        return;
      }
    }
    for (auto i = st.chats.begin(); i != st.chats.end(); ++i) {
      if (i->second.address() == msg.source) {
        st.chats.erase(i);
        return;
      }
    }
  });
  // Its message and chat actors are linked to it (they never outlive it), but their ends, however
  // they end (an answer that moved to another node, a row that did not exist), are not its own:
  // the down handler forgets them.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (self->state.children.erase(msg.source) == 0)
      self->quit(msg.reason);
  });
  // Spawns the message's actor and has it start (claim its row, then the job). A relay of the
  // message here (its owner was another node) is pointed at the new actor.
  auto spawn_stream = [=](job_spec& spec) {
    auto& st = self->state;
    auto id = spec.message_id;
    auto chat_id = spec.chat_id;
    caf::actor relay;
    if (auto old = st.streams.find(id); old != st.streams.end() && old->second.remote) {
      self->demonitor(old->second.actor);
      if (old->second.relayed)
        relay = old->second.actor;
      st.streams.erase(old);
    }
    // Linked: a message actor never outlives the directory that can find it.
    auto mcfg = cfg;
    mcfg.directory = self;
    auto local = self->spawn<caf::linked>(message_actor, std::move(spec), mcfg, writer, launch);
    auto actor = caf::actor_cast<caf::actor>(local);  // kept beside relays, which are untyped
    self->monitor(actor);
    st.children.insert(actor.address());
    st.streams.emplace(id, directory_state::stream{actor, chat_id});
    if (auto chat = st.chats.find(chat_id); chat != st.chats.end())
      self->send(chat->second, stream_started_atom::value, id, actor);
    if (st.cluster)
      tell(self, st.cluster, stream_started_atom::value, chat_id, id, actor);
    if (relay)
      tell(self, relay, origin_atom::value, actor);
    self->delegate(local, start_atom::value);
  };
  return {
    [=](start_atom, job_spec& spec) -> caf::result<bool> {
      if (self->state.streams.count(spec.message_id))
        return true;  // already streaming here: starting twice is a no-op
      spawn_stream(spec);
      return caf::delegated<bool>{};
    },
    [=](continue_atom, job_spec& spec) {
      auto i = self->state.streams.find(spec.message_id);
      if (i != self->state.streams.end() && !i->second.remote)
        return;  // its actor is here and streams still (its lease had lapsed)
      spawn_stream(spec);
    },
    [=](handover_atom) -> caf::result<std::vector<std::int64_t>> {
      auto rp = self->make_response_promise<std::vector<std::int64_t>>();
      auto handed = std::make_shared<std::vector<std::int64_t>>();
      auto pending = std::make_shared<std::size_t>(1);
      auto done = [=]() mutable {
        if (--*pending > 0)
          return;
        if (self->state.cluster && !handed->empty())
          tell(self, self->state.cluster, handover_atom::value, *handed);
        rp.deliver(*handed);
      };
      for (auto& [mid, s] : self->state.streams) {
        if (s.remote)
          continue;
        ++*pending;
        self->request(s.actor, cfg.writer_timeout + std::chrono::seconds(5), handover_atom::value)
          .then([=, id = mid](bool released) mutable {
                  if (released)
                    handed->push_back(id);
                  done();
                },
                [=](caf::error&) mutable { done(); });
      }
      done();
      return rp;
    },
    [=](moved_atom, std::int64_t id) {
      auto i = self->state.streams.find(id);
      if (i != self->state.streams.end() && !i->second.remote
          && self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(i->second.actor)) {
        self->demonitor(i->second.actor);
        self->state.streams.erase(i);
      }
    },
    [=](take_atom, std::vector<std::int64_t>& ids) {
      self->send(writer, take_atom::value, std::move(ids));
    },
    [=](ingest_atom, job_spec& spec) -> caf::result<bool> {
      if (self->state.streams.count(spec.message_id))
        return false;  // it has a job (or had one, and its actor is kept for history)
      spawn_stream(spec);
      return caf::delegated<bool>{};
    },
    [=](outcome_atom, std::int64_t id)
      -> caf::result<model::stream_status, std::int64_t, std::int64_t> {
      auto i = self->state.streams.find(id);
      if (i == self->state.streams.end() || i->second.remote)
        return make_error(errc::no_stream, "no stream of that message here");
      return pass_on<model::stream_status, std::int64_t, std::int64_t>(self, i->second.actor,
                                                                        outcome_atom::value);
    },
    [=](caf::subscribe_atom, std::int64_t id, caf::actor& sub, bool want_state)
      -> caf::result<caf::actor> {
      auto i = self->state.streams.find(id);
      if (i == self->state.streams.end() || i->second.remote)
        return caf::actor{};
      return pass_on<caf::actor>(self, i->second.actor, caf::subscribe_atom::value, std::move(sub),
                                 want_state);
    },
    [=](caf::subscribe_atom, std::int64_t id, caf::actor& sub, catchup& c)
      -> caf::result<caf::actor, bool> {
      auto i = self->state.streams.find(id);
      if (i != self->state.streams.end() && i->second.remote && !i->second.relayed) {
        auto rp = self->make_response_promise<caf::actor, bool>();
        relay_of(self, id, [=](const caf::actor& r) mutable {
          if (r)
            rp.delegate(r, caf::subscribe_atom::value, sub, c);
          else
            rp.deliver(caf::actor{}, false);
        });
        return rp;
      }
      if (i != self->state.streams.end())
        return pass_on<caf::actor, bool>(self, i->second.actor, caf::subscribe_atom::value,
                                         std::move(sub), std::move(c));
      if (self->state.cluster)
        return pass_on<caf::actor, bool>(self, self->state.cluster, caf::subscribe_atom::value, id,
                                         std::move(sub), std::move(c));
      return {caf::actor{}, false};
    },
    [=](caf::unsubscribe_atom, std::int64_t id, caf::actor& sub) {
      auto i = self->state.streams.find(id);
      if (i != self->state.streams.end() && (!i->second.remote || i->second.relayed))
        tell(self, i->second.actor, caf::unsubscribe_atom::value, std::move(sub));
      else if (self->state.cluster)  // subscribed through a relay the cluster found
        tell(self, self->state.cluster, caf::unsubscribe_atom::value, id, std::move(sub));
    },
    [=](cancel_atom, std::int64_t id) -> caf::result<bool> {
      auto i = self->state.streams.find(id);
      if (i != self->state.streams.end())
        return pass_on<bool>(self, i->second.actor, cancel_atom::value);
      if (self->state.cluster)
        return pass_on<bool>(self, self->state.cluster, cancel_atom::value, id);
      return false;
    },
    [=](await_end_atom, std::int64_t id, bool cancel) -> caf::result<std::string> {
      auto i = self->state.streams.find(id);
      if (i != self->state.streams.end())
        return pass_on<std::string>(self, i->second.actor, await_end_atom::value, cancel);
      if (self->state.cluster)
        return pass_on<std::string>(self, self->state.cluster, await_end_atom::value, id, cancel);
      return make_error(errc::no_stream, "no actor streams message " + std::to_string(id));
    },
    [=](caf::join_atom, std::int64_t chat_id, caf::actor& sub) -> caf::result<caf::actor> {
      auto& st = self->state;
      auto i = st.chats.find(chat_id);
      if (i == st.chats.end()) {
        std::map<std::int64_t, caf::actor> live;
        std::vector<std::int64_t> unrelayed;  // listed once their relays are made
        for (auto& [mid, s] : st.streams) {
          if (s.chat_id != chat_id)
            continue;
          if (s.remote && !s.relayed)
            unrelayed.push_back(mid);
          else
            live.emplace(mid, s.actor);
        }
        auto chat = self->spawn<caf::linked>(chat_actor, chat_id, std::move(live));
        self->monitor(chat);
        st.children.insert(chat.address());
        i = st.chats.emplace(chat_id, chat).first;
        for (auto mid : unrelayed)
          relay_of(self, mid, [](const caf::actor&) {});
      }
      self->delegate(i->second, caf::subscribe_atom::value, std::move(sub));
      return caf::delegated<caf::actor>{};
    },
    [=](caf::leave_atom, std::int64_t chat_id, caf::actor& sub) {
      auto i = self->state.chats.find(chat_id);
      if (i != self->state.chats.end())
        self->send(i->second, caf::unsubscribe_atom::value, std::move(sub));
    },
    [=](end_atom, model::stream_status status, const std::string& reason) {
      for (auto& [mid, s] : self->state.streams)
        if (!s.remote)
          tell(self, s.actor, end_atom::value, status, reason, true);
    },
    [=](db_down_atom, std::int64_t seconds) {
      for (auto& [mid, s] : self->state.streams)
        if (!s.remote)
          tell(self, s.actor, end_atom::value, model::stream_status::error,
               "database unreachable for " + std::to_string(seconds) + " s", false);
    },
    [=](caf::put_atom, caf::actor& cluster) { self->state.cluster = std::move(cluster); },
    [=](find_atom, std::int64_t id) {
      auto i = self->state.streams.find(id);
      return i != self->state.streams.end() && !i->second.remote ? i->second.actor : caf::actor{};
    },
    [=](chat_stream_atom, std::int64_t chat_id, std::int64_t id, caf::actor& origin) {
      auto& st = self->state;
      if (!st.cluster || !origin)
        return;
      if (auto i = st.streams.find(id); i != st.streams.end()) {
        if (!i->second.remote || i->second.actor == origin)
          return;
        // Taken over by another node (SPEC §12), or a stale owner back: the relay tells which.
        relay_of(self, id, [=](const caf::actor& r) {
          if (r)
            tell(self, r, origin_atom::value, origin);
        });
        return;
      }
      st.streams.emplace(id, directory_state::stream{origin, chat_id, true, false});
      self->monitor(origin);
      if (st.chats.count(chat_id))
        relay_of(self, id, [](const caf::actor&) {});
    },
    [=](hello_atom, const caf::actor& peer) {
      // A node that connects (again) learns the streams of this one, as if they started now:
      // one it missed while it was cut off (SPEC §12) is found there from then on.
      for (auto& [mid, s] : self->state.streams)
        if (!s.remote)
          tell(self, peer, chat_stream_atom::value, s.chat_id, mid, s.actor);
    },
    [=](caf::get_atom) { return self->state.streams.size() + self->state.chats.size(); },
  };
}

}  // namespace actorcable::actors

// The broadcast hub (SPEC §11's named streams) under the deterministic scheduler: a broadcast
// reaches each listener of its stream once, a listener that left or terminated gets nothing, and
// this node's publications go to the cluster while a peer's stay here.
#define CAF_SUITE hub
#include "test_dsl.hpp"

#include "actors/broadcast/hub.hpp"

using namespace actorcable;
using namespace actorcable::actors;

namespace {

struct listener_state {
  std::vector<std::pair<std::string, std::string>> got;  // (stream, message)
};

caf::behavior listener(caf::stateful_actor<listener_state>* self) {
  return {
    [=](broadcast_atom, std::string& stream, std::string& message) {
      self->state.got.emplace_back(std::move(stream), std::move(message));
    },
    [=](publish_atom, std::vector<std::string>& streams, std::vector<std::string>& messages) {
      for (std::size_t i = 0; i < streams.size(); ++i)
        self->state.got.emplace_back("published " + streams[i], messages[i]);
    },
  };
}

using strings = std::vector<std::string>;

struct fixture : test_coordinator_fixture<> {
  actorcable::metrics stats;
  broadcast_hub_actor hub = sys.spawn(broadcast_hub, &stats);
  caf::actor a = sys.spawn(listener);
  caf::actor b = sys.spawn(listener);

  auto& got(const caf::actor& x) { return deref<caf::stateful_actor<listener_state>>(x).state.got; }
  void join(const caf::actor& who, std::string stream) {
    self->send(hub, caf::join_atom::value, std::move(stream), who);
    consume_messages();
  }
  void leave(const caf::actor& who, std::string stream) {
    self->send(hub, caf::leave_atom::value, std::move(stream), who);
    consume_messages();
  }
  void broadcast(strings streams, strings messages) {
    self->send(hub, broadcast_atom::value, std::move(streams), std::move(messages));
    consume_messages();
  }
  std::size_t streams_known() { return deref<broadcast_hub_actor::stateful_base<hub_state>>(hub).state.listeners.size(); }
  std::size_t listeners_known() { return deref<broadcast_hub_actor::stateful_base<hub_state>>(hub).state.joined.size(); }
};

using got_list = std::vector<std::pair<std::string, std::string>>;

}  // namespace

CAF_TEST_FIXTURE_SCOPE(hub_tests, fixture)

CAF_TEST(a broadcast reaches each listener of its stream once and nobody else) {
  join(a, "Chat:x");
  join(a, "Chat:x");  // twice: still once
  join(b, "Chat:y");
  broadcast({"Chat:x", "Chat:y", "Chat:z"}, {"1", "2", "3"});
  CAF_CHECK(got(a) == (got_list{{"Chat:x", "1"}}));
  CAF_CHECK(got(b) == (got_list{{"Chat:y", "2"}}));
  CAF_CHECK_EQUAL(stats.broadcast_deliveries_total.load(), 2);  // Chat:z has no listener
}

CAF_TEST(a listener that left or terminated gets nothing and is forgotten) {
  join(a, "Chat:x");
  join(a, "Message:m");
  join(b, "Chat:x");
  leave(a, "Chat:x");
  broadcast({"Chat:x", "Message:m"}, {"1", "2"});
  CAF_CHECK(got(a) == (got_list{{"Message:m", "2"}}));
  CAF_CHECK(got(b) == (got_list{{"Chat:x", "1"}}));
  leave(a, "Message:m");
  CAF_CHECK_EQUAL(streams_known(), 1u);
  CAF_CHECK_EQUAL(listeners_known(), 1u);
  caf::anon_send_exit(b, caf::exit_reason::kill);
  consume_messages();
  CAF_CHECK_EQUAL(streams_known(), 0u);
  CAF_CHECK_EQUAL(listeners_known(), 0u);
}

CAF_TEST(this node publications also go to the cluster and those of peers stay here) {
  auto cluster = sys.spawn(listener);
  self->send(hub, caf::put_atom::value, cluster);
  join(a, "Chat:x");
  self->send(hub, publish_atom::value, strings{"Chat:x"}, strings{"mine"});
  consume_messages();
  broadcast({"Chat:x"}, {"from a peer"});
  CAF_CHECK(got(a) == (got_list{{"Chat:x", "mine"}, {"Chat:x", "from a peer"}}));
  CAF_CHECK(got(cluster) == (got_list{{"published Chat:x", "mine"}}));
}

CAF_TEST_FIXTURE_SCOPE_END()

#define CAF_SUITE actor_list
#include "test_dsl.hpp"

#include "actors/delivery/actor_list.hpp"

#include <algorithm>

using actorcable::actors::actor_list;

namespace {

caf::behavior idle() {
  return {[](int) {}};
}

struct fixture : test_coordinator_fixture<> {
  std::vector<caf::actor> actors;
  fixture() {
    for (int i = 0; i < 5; ++i)
      actors.push_back(sys.spawn(idle));
  }
  static bool holds(const actor_list& list, const caf::actor& a) {
    return std::find(list.begin(), list.end(), a) != list.end();
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(actor_list_tests, fixture)

CAF_TEST(each actor is held once) {
  actor_list list;
  CAF_CHECK(list.insert(actors[0]));
  CAF_CHECK(list.insert(actors[1]));
  CAF_CHECK(!list.insert(actors[0]));
  CAF_CHECK_EQUAL(list.size(), 2u);
  CAF_CHECK(list.contains(actors[1].address()));
  CAF_CHECK(!list.contains(actors[2].address()));
}

CAF_TEST(erasing keeps every other actor reachable and findable) {
  actor_list list;
  for (auto& a : actors)
    list.insert(a);
  CAF_CHECK(list.erase(actors[1].address()));  // from the middle: the last one moves there
  CAF_CHECK(!list.erase(actors[1].address()));
  CAF_CHECK(list.erase(actors[4].address()));  // the last one
  CAF_CHECK(list.erase(actors[0].address()));  // the first one
  CAF_CHECK_EQUAL(list.size(), 2u);
  for (auto i : {2, 3}) {
    CAF_CHECK(holds(list, actors[i]));
    CAF_CHECK(list.contains(actors[i].address()));
  }
  CAF_CHECK(list.erase(actors[3].address()));
  CAF_CHECK(list.erase(actors[2].address()));
  CAF_CHECK(list.empty());
  CAF_CHECK(list.insert(actors[2]));  // and back again
  CAF_CHECK(holds(list, actors[2]));
}

CAF_TEST_FIXTURE_SCOPE_END()

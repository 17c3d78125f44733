// The subscribers of an actor: each once, O(1) to add and remove, iterated in no particular
// order. A message watched by 10,000 connections gets 10,000 subscribes in a burst when it
// starts: a linear search per subscribe held its first chunks back by a fraction of a second.
#pragma once
#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include <unordered_map>
#include <vector>

namespace actorcable::actors {

class actor_list {
public:
  // False when `a` is in the list already.
  bool insert(const caf::actor& a) {
    if (!index_.emplace(a.address(), items_.size()).second)
      return false;
    items_.push_back(a);
    return true;
  }

  // False when `a` is not in the list.
  bool erase(const caf::actor_addr& a) {
    auto it = index_.find(a);
    if (it == index_.end())
      return false;
    auto pos = it->second;
    index_.erase(it);
    if (pos + 1 != items_.size()) {
      items_[pos] = std::move(items_.back());
      index_[items_[pos].address()] = pos;
    }
    items_.pop_back();
    return true;
  }

  bool contains(const caf::actor_addr& a) const { return index_.count(a) > 0; }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

private:
  std::vector<caf::actor> items_;
  std::unordered_map<caf::actor_addr, std::size_t> index_;
};

}  // namespace actorcable::actors

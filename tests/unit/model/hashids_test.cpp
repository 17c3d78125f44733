// Hashids against vectors written by the npm `hashids` package in the same test run.
#define CAF_SUITE hashids
#include "test_dsl.hpp"

#include "model/obfuscated_id.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace actorcable::model;

CAF_TEST(matches the reference implementation for every vector) {
  const char* path = std::getenv("HASHIDS_VECTORS");
  CAF_REQUIRE(path != nullptr);
  std::ifstream in(path);
  CAF_REQUIRE(in.good());
  std::string cls, hash;
  std::uint64_t id = 0;
  std::size_t count = 0, mismatches = 0;
  while (in >> cls >> id >> hash) {
    auto kind = kind_from_class_name(cls);
    CAF_REQUIRE(kind.has_value());
    auto encoded = encode_id(*kind, static_cast<std::int64_t>(id));
    auto decoded = decode_id(*kind, hash);
    if (encoded != hash || !decoded || static_cast<std::uint64_t>(*decoded) != id) {
      if (++mismatches < 5)
        CAF_MESSAGE("mismatch " << cls << " " << id << ": ours " << encoded << ", npm " << hash);
    }
    ++count;
  }
  CAF_CHECK_EQUAL(count, 40032u);
  CAF_CHECK_EQUAL(mismatches, 0u);
}

CAF_TEST(garbage decodes to nothing) {
  std::string long_id(10000, 'a');
  for (std::string bad : {std::string(""), std::string("a"), std::string("zzzzzz"),
                          std::string("PNvAY!"), std::string("' OR 1=1 --"), long_id,
                          std::string("\xC3\xBC\xC3\xBC\xC3\xBC"), std::string("PNvAYr\0x", 8),
                          std::string("0"), std::string("-1")}) {
    for (auto kind : {model_kind::account, model_kind::user, model_kind::chat,
                      model_kind::message})
      CAF_CHECK(!decode_id(kind, bad).has_value());
  }
}

CAF_TEST(one changed character never decodes to another id silently) {
  auto id = encode_id(model_kind::message, 4242);
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < id.size(); ++i) {
    auto changed = id;
    changed[i] = changed[i] == 'x' ? 'y' : 'x';
    if (auto n = decode_id(model_kind::message, changed))
      accepted += encode_id(model_kind::message, *n) == changed ? 0 : 1;
  }
  CAF_CHECK_EQUAL(accepted, 0u);
}

// Hashids decoding of arbitrary public ids: never throws, and what decodes encodes back the same.
#include "model/obfuscated_id.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace actorcable::model;
  std::string_view id(reinterpret_cast<const char*>(data), size);
  for (auto kind : {model_kind::account, model_kind::user, model_kind::chat, model_kind::message}) {
    if (auto n = decode_id(kind, id); n && encode_id(kind, *n) != id)
      std::abort();  // decode accepted something encode would not produce
  }
  return 0;
}

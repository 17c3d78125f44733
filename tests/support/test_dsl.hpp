// Include for every CAF test suite: works around CAF 0.17.6's dsl.hpp using an undefined FAIL.
#pragma once
#define FAIL(msg) CAF_FAIL(msg)
#include <caf/test/dsl.hpp>

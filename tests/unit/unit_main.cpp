// The test engine and main() of unit_tests; suites live in *_test.cpp.
#define CAF_SUITE unit_main
#include <caf/test/unit_test_impl.hpp>

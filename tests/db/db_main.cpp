// The test engine and main() of db_tests; suites live in *_test.cpp.
#define CAF_SUITE db_main
#include <caf/test/unit_test_impl.hpp>

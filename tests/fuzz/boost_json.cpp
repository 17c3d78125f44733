// Boost.JSON compiled into the fuzzers (header-only mode) so that it is instrumented too.
#include <boost/json/src.hpp>

// The doctest runner for natter_unit_tests. Test cases live in one *_test.cpp per module.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

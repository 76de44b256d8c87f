// The fixture of most admin tests: a fresh temporary directory with the scenario's data
// directory in it (DIR/data), built before each test.
#pragma once

#include <gtest/gtest.h>

#include "admin_harness.hpp"
#include "scenario.hpp"

namespace admin_test {

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override { scenario = build_scenario(data()); }
  std::string data() const { return dir.sub("data"); }

  TempDir dir;
  Scenario scenario;
};

}  // namespace admin_test

// --cpus' grammar (coordinator/plan/cpu_list.h): lists, ranges, and what it refuses.

#include "coordinator/plan/cpu_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace synthfarm {
namespace {

std::vector<int> parsed(const char* text) {
  std::string why;
  const auto cpus = parse_cpu_list(text, why);
  EXPECT_TRUE(cpus.has_value()) << "'" << text << "': " << why;
  return cpus.value_or(std::vector<int>{});
}

std::string refusal(const char* text) {
  std::string why;
  EXPECT_FALSE(parse_cpu_list(text, why).has_value()) << "'" << text << "' was taken";
  return why;
}

TEST(ParseCpuList, TakesNumbersAndAscendingRangesInTheOrderWritten) {
  EXPECT_EQ(parsed("0"), (std::vector<int>{0}));
  EXPECT_EQ(parsed("0,1"), (std::vector<int>{0, 1}));
  EXPECT_EQ(parsed("1,0"), (std::vector<int>{1, 0}));
  EXPECT_EQ(parsed("0-3"), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(parsed("6,0-1,3-3"), (std::vector<int>{6, 0, 1, 3}));
  EXPECT_EQ(parsed("1023"), (std::vector<int>{kMaxCpuNumber}));
}

TEST(ParseCpuList, RefusesAnythingElseAndSaysWhichPart) {
  for (const char* bad : {"", ",", "0,", ",0", "a", "0-", "-3", "+1", " 1", "1 ", "0x1", "1.0",
                          "0--1", "1024", "99999999999999999999", "0-1-2"}) {
    EXPECT_FALSE(refusal(bad).empty()) << bad;
  }
  EXPECT_NE(refusal("0,x").find("'x' is not a CPU number"), std::string::npos);
  EXPECT_NE(refusal("3-1").find("write it 1-3"), std::string::npos);
  EXPECT_NE(refusal("0-2,1").find("CPU 1 is given twice"), std::string::npos);
}

TEST(FirstCpuNotAllowed, NamesTheFirstCpuOutsideTheSet) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  CPU_SET(0, &allowed);
  CPU_SET(2, &allowed);
  EXPECT_EQ(first_cpu_not_allowed({0, 2}, allowed), std::nullopt);
  EXPECT_EQ(first_cpu_not_allowed({2, 3, 1}, allowed), 3);
  EXPECT_EQ(first_cpu_not_allowed({}, allowed), std::nullopt);
}

TEST(DescribeCpuSet, WritesRunsAsRanges) {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(describe_cpu_set(set), "none");
  for (const int cpu : {0, 1, 2, 3, 6, 8, 9}) CPU_SET(cpu, &set);
  EXPECT_EQ(describe_cpu_set(set), "0-3,6,8-9");
  std::string why;
  // What it writes, parse_cpu_list reads back.
  EXPECT_EQ(parse_cpu_list(describe_cpu_set(set), why), (std::vector<int>{0, 1, 2, 3, 6, 8, 9}));
}

}  // namespace
}  // namespace synthfarm

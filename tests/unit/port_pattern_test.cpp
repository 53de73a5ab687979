// port_pattern_problem: what --connect accepts before libjack compiles the pattern. Acceptable
// patterns are those users write for port names; refused ones are those whose compiled form
// grows exponentially (the fuzzer's 70-byte pattern took more than 2 GB), with a reason.
#include "coordinator/plan/port_pattern.h"

#include <gtest/gtest.h>

#include <string>

namespace synthfarm {
namespace {

TEST(PortPattern, AcceptsThePatternsUsersWriteForPortNames) {
  for (const char* pattern : {"system:playback_[12]", ".*:out_.*", "(system|foo):playback_(1|2)",
                              "^system:.*[0-9]+$", "(ab)+", "a{2}b{1,3}c{4,}", "[]a]+", "[^]x]*",
                              "[[:alpha:]]+", "\\.+", "a|b*", "((a)(b))+", "x{255}"}) {
    EXPECT_EQ(port_pattern_problem(pattern), std::nullopt) << pattern;
  }
}

TEST(PortPattern, RefusesStackedRepetitionsThatRegcompWouldCopyExponentially) {
  for (const char* pattern :
       {"c++", "a*+", "a?*", "a{2}{3}", "a+{2}", "8c++++++++++++++++++++++++++++++++++++"}) {
    const auto problem = port_pattern_problem(pattern);
    ASSERT_TRUE(problem.has_value()) << pattern;
    EXPECT_NE(problem->find("repeats a repetition"), std::string::npos) << *problem;
  }
}

TEST(PortPattern, RefusesARepeatedGroupThatRepeatsInside) {
  for (const char* pattern : {"(a+)+", "((a+)b)*", "(a{255}){255}", "(x|y*){2}", "((a)+)+"}) {
    const auto problem = port_pattern_problem(pattern);
    ASSERT_TRUE(problem.has_value()) << pattern;
    EXPECT_NE(problem->find("repeats a group"), std::string::npos) << *problem;
  }
}

TEST(PortPattern, RefusesCountsAbovePosixsLimitAndOverlongPatterns) {
  const auto count = port_pattern_problem("x{8666666666666666666}");
  ASSERT_TRUE(count.has_value());
  EXPECT_NE(count->find("above 255"), std::string::npos) << *count;
  EXPECT_TRUE(port_pattern_problem("x{256}").has_value());
  EXPECT_TRUE(port_pattern_problem("x{1,256}").has_value());
  const auto long_one = port_pattern_problem(std::string(kMaxPortPatternBytes + 1, 'a'));
  ASSERT_TRUE(long_one.has_value());
  EXPECT_NE(long_one->find("longer than 256"), std::string::npos) << *long_one;
  EXPECT_EQ(port_pattern_problem(std::string(kMaxPortPatternBytes, 'a')), std::nullopt);
}

TEST(PortPattern, LeavesTheGrammarToRegcompAndQuotesItsWords) {
  const auto unmatched = port_pattern_problem("system:(playback");
  ASSERT_TRUE(unmatched.has_value());
  EXPECT_NE(unmatched->find("not a POSIX extended regular expression (Unmatched ( or \\()"),
            std::string::npos)
      << *unmatched;
  EXPECT_TRUE(port_pattern_problem("[a").has_value());
  EXPECT_TRUE(port_pattern_problem(std::string("a\0b", 3)).has_value());
}

}  // namespace
}  // namespace synthfarm

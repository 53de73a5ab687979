// frequency_plan (coordinator/frequency_plan.h): dealing oscillators to workers and reading
// frequency files.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/plan/frequency_plan.h"

namespace synthfarm {
namespace {

const std::string kVectorDir = std::string(SYNTHFARM_TEST_DATA_DIR) + "/pyo-vectors/";

std::vector<std::uint32_t> counts_of(const std::vector<WorkerGroup>& groups) {
  std::vector<std::uint32_t> counts;
  for (const WorkerGroup& group : groups) counts.push_back(group.oscillator_count);
  return counts;
}

std::vector<std::uint64_t> firsts_of(const std::vector<WorkerGroup>& groups) {
  std::vector<std::uint64_t> firsts;
  for (const WorkerGroup& group : groups) firsts.push_back(group.first_oscillator);
  return firsts;
}

// ---------------------------------------------------------------------------------------------
// deal_contiguous_groups

TEST(DealContiguousGroups, GivesNoGroupsForNoWorkersInsteadOfDividingByZero) {
  EXPECT_TRUE(deal_contiguous_groups(10, 0).empty());
}

TEST(DealContiguousGroups, SplitsAnEvenTotalEqually) {
  const auto groups = deal_contiguous_groups(2000, 4);
  EXPECT_EQ(counts_of(groups), (std::vector<std::uint32_t>{500, 500, 500, 500}));
  EXPECT_EQ(firsts_of(groups), (std::vector<std::uint64_t>{0, 500, 1000, 1500}));
}

TEST(DealContiguousGroups, GivesTheRemainderToTheFirstGroups) {
  const auto groups = deal_contiguous_groups(10, 4);
  EXPECT_EQ(counts_of(groups), (std::vector<std::uint32_t>{3, 3, 2, 2}));
  EXPECT_EQ(firsts_of(groups), (std::vector<std::uint64_t>{0, 3, 6, 8}));
}

TEST(DealContiguousGroups, LeavesTrailingWorkersEmptyWhenOscillatorsAreFewer) {
  const auto groups = deal_contiguous_groups(2, 4);
  EXPECT_EQ(counts_of(groups), (std::vector<std::uint32_t>{1, 1, 0, 0}));
  EXPECT_EQ(firsts_of(groups), (std::vector<std::uint64_t>{0, 1, 2, 2}));
}

TEST(DealContiguousGroups, IsContiguousAndPreservesTheTotalForEveryShape) {
  for (std::uint64_t total = 0; total <= 300; total += 7) {
    for (std::uint32_t workers = 1; workers <= 17; ++workers) {
      const auto groups = deal_contiguous_groups(total, workers);
      ASSERT_EQ(groups.size(), workers);
      std::uint64_t next = 0;
      std::uint32_t smallest = UINT32_MAX;
      std::uint32_t largest = 0;
      for (const WorkerGroup& group : groups) {
        ASSERT_EQ(group.first_oscillator, next) << total << " over " << workers;
        next += group.oscillator_count;
        smallest = std::min(smallest, group.oscillator_count);
        largest = std::max(largest, group.oscillator_count);
      }
      EXPECT_EQ(next, total) << total << " over " << workers;
      EXPECT_LE(largest - smallest, 1u) << total << " over " << workers;
      for (std::size_t w = 1; w < groups.size(); ++w) {
        EXPECT_GE(groups[w - 1].oscillator_count, groups[w].oscillator_count);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// read_frequency_file

// A fresh directory per test (ctest runs tests in parallel), removed afterwards.
class ReadFrequencyFile : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "synthfarm-test-XXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    directory_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }

  std::string write_file(const std::string& name, const std::string& text) {
    const std::string path = (directory_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::filesystem::path directory_;
};

TEST_F(ReadFrequencyFile, ReadsOneNumberPerLineSkippingCommentsAndBlankLines) {
  const std::string path = write_file(
      "good.freqs", "# a comment\n440\n\n  550.5  \n\t# indented comment\n660.25\r\n   \n1e3\n0\n");
  std::string error;
  const auto frequencies = read_frequency_file(path, error);
  ASSERT_TRUE(frequencies.has_value()) << error;
  EXPECT_EQ(*frequencies, (std::vector<double>{440.0, 550.5, 660.25, 1000.0, 0.0}));
  EXPECT_TRUE(error.empty());
}

TEST_F(ReadFrequencyFile, ReadsALastLineWithoutNewline) {
  const std::string path = write_file("no-newline.freqs", "440\n880");
  std::string error;
  const auto frequencies = read_frequency_file(path, error);
  ASSERT_TRUE(frequencies.has_value()) << error;
  EXPECT_EQ(*frequencies, (std::vector<double>{440.0, 880.0}));
}

TEST_F(ReadFrequencyFile, RejectsANonNumberLineNamingFileAndLineNumber) {
  const std::string path = write_file("bad.freqs", "# header\n440\nhello\n660\n");
  std::string error;
  EXPECT_FALSE(read_frequency_file(path, error).has_value());
  EXPECT_NE(error.find(path + ":3"), std::string::npos) << error;
  EXPECT_NE(error.find("hello"), std::string::npos) << error;
}

TEST_F(ReadFrequencyFile, RejectsTrailingJunkAfterANumber) {
  for (const char* text : {"440hz", "440 550", "440,", "0x", "1e"}) {
    const std::string path = write_file("junk.freqs", std::string("100\n") + text + "\n");
    std::string error;
    EXPECT_FALSE(read_frequency_file(path, error).has_value()) << "'" << text << "' accepted";
    EXPECT_NE(error.find(path + ":2"), std::string::npos) << error;
  }
}

TEST_F(ReadFrequencyFile, RejectsNonFiniteAndOutOfRangeNumbers) {
  for (const char* text : {"nan", "inf", "-inf", "1e999"}) {
    const std::string path = write_file("nonfinite.freqs", std::string(text) + "\n");
    std::string error;
    EXPECT_FALSE(read_frequency_file(path, error).has_value()) << "'" << text << "' accepted";
    EXPECT_NE(error.find(path + ":1"), std::string::npos) << error;
  }
}

TEST_F(ReadFrequencyFile, ReportsAMissingFileByName) {
  const std::string path = (directory_ / "does-not-exist.freqs").string();
  std::string error;
  EXPECT_FALSE(read_frequency_file(path, error).has_value());
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;  // the errno text
}

TEST_F(ReadFrequencyFile, RejectsAnEmptyFile) {
  const std::string path = write_file("empty.freqs", "");
  std::string error;
  EXPECT_FALSE(read_frequency_file(path, error).has_value());
  EXPECT_NE(error.find(path), std::string::npos) << error;
}

TEST_F(ReadFrequencyFile, RejectsAFileOfOnlyCommentsAndBlankLines) {
  const std::string path = write_file("comments.freqs", "# nothing here\n\n   \n# still nothing\n");
  std::string error;
  EXPECT_FALSE(read_frequency_file(path, error).has_value());
  EXPECT_NE(error.find(path), std::string::npos) << error;
}

TEST_F(ReadFrequencyFile, ReadsShortestRoundTripDecimalsBackAsTheSameDoubles) {
  // Python repr() texts of doubles that are not exact decimals.
  const std::string path =
      write_file("repr.freqs", "0.1\n718.9350350546961\n400.00000000000006\n1e-07\n123456.789\n");
  std::string error;
  const auto frequencies = read_frequency_file(path, error);
  ASSERT_TRUE(frequencies.has_value()) << error;
  EXPECT_EQ(*frequencies,
            (std::vector<double>{0.1, 718.9350350546961, 400.00000000000006, 1e-07, 123456.789}));
}

TEST(ReadFrequencyFileOfPyoVectors, GivesTheManifestsFrequenciesExactly) {
  // The .freqs files were written with Python's repr() from each JSON manifest.
  for (const char* name : {"single_440_fb0.1", "stereo8_fb0.1", "group500_seed"}) {
    std::ifstream manifest(kVectorDir + name + ".json");
    ASSERT_TRUE(manifest) << name;
    const auto expected = nlohmann::json::parse(manifest).at("freqs").get<std::vector<double>>();
    std::string error;
    const auto frequencies = read_frequency_file(kVectorDir + name + ".freqs", error);
    ASSERT_TRUE(frequencies.has_value()) << error;
    EXPECT_EQ(*frequencies, expected) << name;
  }
}

}  // namespace
}  // namespace synthfarm

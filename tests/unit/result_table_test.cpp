// synthfarm-bench's results table: one set of rows, three renderings that must agree with each
// other and keep the names programs read (scripts/plot-scaling, check_smoke_report.cmake).
#include "bench/result_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace synthfarm::bench {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A table shaped like `mix`: whole numbers, a real shown rounded, a share shown as a percentage,
// a column only JSON has and one only CSV has.
ResultTable small_table() {
  ResultTable table({
      {.name = "workers"},
      {.name = "median_ns", .heading = "median ns"},
      {.name = "share_of_period", .heading = "%per", .decimals = 3, .text_scale = 100},
      {.name = "budget_ns", .outputs = kJson},
      {.name = "repeats", .outputs = kCsv},
  });
  table.add_row()
      .set("workers", 1u)
      .set("median_ns", 160.25)
      .set("share_of_period", 0.000120125)
      .set("budget_ns", 933333.3333333333)
      .set("repeats", 3u);
  table.add_row()
      .set("workers", 16u)
      .set("median_ns", 1583.0)
      .set("share_of_period", 0.00119)
      .set("budget_ns", 933333.3333333333)
      .set("repeats", 3u);
  return table;
}

TEST(ResultTable, TheTextTableShowsItsColumnsRightAlignedUnderTheirHeadingsRoundedForPeople) {
  const std::vector<std::string> lines = lines_of(to_text_table(small_table()));
  ASSERT_EQ(lines.size(), 3u);
  // Each column as wide as its widest cell or heading, one space apart; the JSON-only and
  // CSV-only columns are not shown. 160.25 rounds to 160 (0 decimals); 0.000120125 is 0.012 %.
  EXPECT_EQ(lines[0], "workers median ns  %per");
  EXPECT_EQ(lines[1], "      1       160 0.012");
  EXPECT_EQ(lines[2], "     16      1583 0.119");
}

TEST(ResultTable, JsonHasTheJsonColumnsByNameWithTheirExactValues) {
  const nlohmann::json rows = to_json(small_table());
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 2u);
  const nlohmann::json& first = rows[0];
  EXPECT_EQ(first.size(), 4u) << first.dump() << ": repeats is CSV only";
  EXPECT_FALSE(first.contains("repeats"));
  // Whole numbers stay whole (scripts read `workers` as a count), reals are not rounded.
  ASSERT_TRUE(first["workers"].is_number_unsigned());
  EXPECT_EQ(first["workers"].get<std::uint64_t>(), 1u);
  ASSERT_TRUE(first["median_ns"].is_number_float());
  EXPECT_EQ(first["median_ns"].get<double>(), 160.25);
  EXPECT_EQ(first["share_of_period"].get<double>(), 0.000120125);
  EXPECT_EQ(first["budget_ns"].get<double>(), 933333.3333333333);
  EXPECT_EQ(rows[1]["workers"].get<std::uint64_t>(), 16u);
}

TEST(ResultTable, CsvHasAHeaderOfNamesAndEveryRealToTheLastDigit) {
  const std::vector<std::string> lines = lines_of(to_csv(small_table()));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "workers,median_ns,share_of_period,repeats");
  EXPECT_EQ(lines[1], "1,160.25,0.000120125,3");
  // 1583.0 is written as the shortest text that reads back as it.
  EXPECT_EQ(lines[2], "16,1583,0.00119,3");
  // Shortest round trip: reading the field back gives the same double, bit for bit.
  ResultTable third({{.name = "x"}});
  const double awkward = 0.1 + 0.2;
  third.add_row().set("x", awkward);
  EXPECT_EQ(std::stod(lines_of(to_csv(third))[1]), awkward);
}

TEST(ResultTable, AMissingCellIsADashInTheTableAnEmptyCsvFieldAndNoJsonKey) {
  ResultTable table({{.name = "workers"}, {.name = "load", .decimals = 1}, {.name = "probes"}});
  table.add_row().set("workers", 1u).set("probes", 6u);  // load never set: no probe passed
  EXPECT_EQ(lines_of(to_text_table(table))[1], "      1    -      6");
  EXPECT_EQ(lines_of(to_csv(table))[1], "1,,6");
  const nlohmann::json rows = to_json(table);
  EXPECT_FALSE(rows[0].contains("load")) << rows.dump();
  EXPECT_EQ(rows[0].size(), 2u);
}

TEST(ResultTable, TextFormatsApplyToTheTableOnly) {
  ResultTable table({
      {.name = "scaling", .align_left = true},
      {.name = "first_failure", .heading = "failed at", .zero_text = "none"},
      {.name = "load_percent", .heading = "load", .decimals = 1, .text_suffix = "%"},
      {.name = "rate", .decimals = 1, .text_scale = 1e-6},
  });
  table.add_row()
      .set("scaling", "strong")
      .set("first_failure", std::uint64_t{0})
      .set("load_percent", 93.25)
      .set("rate", 6368966163.6);
  table.add_row()
      .set("scaling", "weak")
      .set("first_failure", std::uint64_t{128000})
      .set("load_percent", 7.0)
      .set("rate", 1e6);
  const std::vector<std::string> text = lines_of(to_text_table(table));
  ASSERT_EQ(text.size(), 3u);
  EXPECT_EQ(text[0], "scaling failed at  load   rate");
  EXPECT_EQ(text[1], "strong       none 93.2% 6369.0");  // 93.25 rounds to even
  EXPECT_EQ(text[2], "weak       128000  7.0%    1.0");
  const std::vector<std::string> csv = lines_of(to_csv(table));
  EXPECT_EQ(csv[1], "strong,0,93.25,6368966163.6");
  EXPECT_EQ(to_json(table)[0]["first_failure"].get<std::uint64_t>(), 0u);
}

TEST(ResultTable, ListsAndSubTablesAreWholeInJsonAndCountedElsewhere) {
  auto searches =
      std::make_shared<ResultTable>(std::vector<Column>{{.name = "repeat"}, {.name = "capacity"}});
  searches->add_row().set("repeat", 1u).set("capacity", std::uint64_t{124000});
  searches->add_row().set("repeat", 2u).set("capacity", std::uint64_t{132000});
  ResultTable table({
      {.name = "workers"},
      {.name = "searches"},
      {.name = "capacities", .outputs = kJson},
      {.name = "wall_samples", .outputs = kJson},
  });
  table.add_row()
      .set("workers", 1u)
      .set("searches", std::shared_ptr<const ResultTable>(searches))
      .set("capacities", std::vector<std::uint64_t>{124000, 132000})
      .set("wall_samples", std::vector<double>{7.5, 7.25});

  const nlohmann::json row = to_json(table)[0];
  EXPECT_EQ(row["searches"], nlohmann::json::parse(R"([{"repeat": 1, "capacity": 124000},
                                                       {"repeat": 2, "capacity": 132000}])"));
  EXPECT_EQ(row["capacities"], nlohmann::json::parse("[124000, 132000]"));
  EXPECT_TRUE(row["capacities"][0].is_number_unsigned()) << "counts stay whole";
  EXPECT_EQ(row["wall_samples"], nlohmann::json::parse("[7.5, 7.25]"));
  EXPECT_EQ(lines_of(to_csv(table))[1], "1,2");
  EXPECT_EQ(lines_of(to_text_table(table))[1], "      1        2");
}

TEST(ResultTable, CsvQuotesAFieldWithACommaOrAQuote) {
  ResultTable table({{.name = "cpu_model"}, {.name = "cores"}});
  table.add_row().set("cpu_model", R"(AMD EPYC, "Rome")").set("cores", 2u);
  EXPECT_EQ(lines_of(to_csv(table))[1], R"("AMD EPYC, ""Rome""",2)");
}

TEST(ResultTable, NamesAreCheckedWhereTheyAreWrittenNotWhereTheyAreRead) {
  EXPECT_THROW(ResultTable({{.name = "workers"}, {.name = "workers", .outputs = kCsv}}),
               std::invalid_argument);
  EXPECT_THROW(ResultTable({{.name = ""}}), std::invalid_argument);
  ResultTable table({{.name = "workers"}});
  auto row = table.add_row();
  try {
    row.set("worker", 1u);
    FAIL() << "a misspelt column was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("'worker'"), std::string::npos) << error.what();
  }
}

TEST(ResultTable, ATableWithoutRowsStillHasItsHeadings) {
  const ResultTable table({{.name = "workers"}, {.name = "capacity"}});
  EXPECT_EQ(to_text_table(table), "workers capacity\n");
  EXPECT_EQ(to_csv(table), "workers,capacity\n");
  EXPECT_EQ(to_json(table), nlohmann::json::array());
}

TEST(ResultTable, ANotANumberIsWrittenAsSuchNotAsAMissingCell) {
  ResultTable table({{.name = "x", .decimals = 2}});
  table.add_row().set("x", std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(lines_of(to_text_table(table))[1], "nan");
  EXPECT_EQ(lines_of(to_csv(table))[1], "nan");
  EXPECT_TRUE(to_json(table)[0]["x"].is_number_float());
}

TEST(ResultTable, RangeTextJoinsTwoRoundedEnds) {
  EXPECT_EQ(range_text(0.0312, 0.0356, 2), "0.03-0.04");
  EXPECT_EQ(range_text(124000, 132000, 0), "124000-132000");
}

}  // namespace
}  // namespace synthfarm::bench

#pragma once
// A benchmark's results as one table, built once and written three ways: an aligned text table
// for people (stdout), a JSON array of objects and CSV rows for programs (scripts/plot-scaling,
// bench/check_smoke_report.cmake, docs/data/*.json).
//
// A column has a name (the JSON key and the CSV header: snake_case, unit last, e.g.
// `median_ns`; programs read it, so it never changes), a heading for people (`median ns`), how
// the text table shows its numbers, and the outputs it appears in: JSON keeps whole sample
// lists, CSV keeps flat numbers, the text table stays narrow enough to read. Each cell holds
// the exact value; only the text table rounds.
//
// Thread: any non-real-time thread. Allocates; a programming error (an unknown or duplicated
// column name) throws std::invalid_argument.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace synthfarm::bench {

class ResultTable;

// One cell. Missing (std::monostate, the default): no key in JSON, an empty CSV field, "-" in
// the text table. A list or a sub-table is written whole in JSON and as its number of items in
// CSV and the text table.
using Cell =
    std::variant<std::monostate, std::uint64_t, double, std::string, std::vector<std::uint64_t>,
                 std::vector<double>, std::shared_ptr<const ResultTable>>;

// Where a column appears; combine with |.
enum Output : unsigned {
  kText = 1u << 0,
  kJson = 1u << 1,
  kCsv = 1u << 2,
  kEverywhere = kText | kJson | kCsv,
};

struct Column {
  // JSON key and CSV header; unique within the table.
  std::string name{};
  // The text table's heading, with the unit as people read it; empty: the name.
  std::string heading{};
  // Text table only: a real number is multiplied by text_scale (100 shows a share as a
  // percentage, 1e-6 a rate in millions) and printed with `decimals` digits after the point;
  // a whole number is printed whole. Then text_suffix is appended ("%").
  int decimals = 0;
  double text_scale = 1.0;
  std::string text_suffix{};
  // Text table only: what a whole 0 reads as when 0 stands for "nothing" ("none"); empty: 0.
  std::string zero_text{};
  // Text table only: left-aligned (words); numbers are right-aligned.
  bool align_left = false;
  unsigned outputs = kEverywhere;
};

class ResultTable {
 public:
  // Throws std::invalid_argument when two columns share a name, or a name is empty.
  explicit ResultTable(std::vector<Column> columns);

  // One row being filled: set() by column name; cells not set stay missing.
  class Row {
   public:
    // Throws std::invalid_argument for a name that is not a column.
    Row& set(std::string_view column, Cell value);

   private:
    friend class ResultTable;
    Row(ResultTable& table, std::size_t index) : table_(table), index_(index) {}
    ResultTable& table_;
    std::size_t index_;
  };

  // Appends a row of missing cells.
  Row add_row();

  const std::vector<Column>& columns() const noexcept { return columns_; }
  std::size_t row_count() const noexcept { return rows_.size(); }
  // The cells of `row`, one per column in column order.
  const std::vector<Cell>& row(std::size_t index) const { return rows_.at(index); }
  // The cell of `row` under `column`; throws std::invalid_argument for an unknown column.
  const Cell& at(std::size_t row, std::string_view column) const;

 private:
  std::size_t column_index(std::string_view name) const;

  std::vector<Column> columns_;
  std::vector<std::vector<Cell>> rows_;  // each holds one cell per column, in column order
};

// A heading line and one line per row, each ending in '\n'; columns (those with kText) are
// separated by one space and padded to their widest cell or heading.
std::string to_text_table(const ResultTable& table);

// An array with one object per row: the columns with kJson whose cell is not missing. Whole
// numbers stay whole; reals keep every digit (nlohmann's shortest round trip).
nlohmann::json to_json(const ResultTable& table);

// A header line of column names and one line per row (RFC 4180: fields that hold a comma, a
// quote or a line break are quoted), each ending in '\n'. Reals keep every digit (shortest
// round trip), as in JSON.
std::string to_csv(const ResultTable& table);

// "low-high" with `decimals` digits after the point, for a range column of the text table.
std::string range_text(double low, double high, int decimals);

}  // namespace synthfarm::bench

#include "bench/result_table.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <type_traits>

namespace synthfarm::bench {
namespace {

template <typename... Handlers>
struct Overloaded : Handlers... {
  using Handlers::operator()...;
};
// C++20 deduces this for an aggregate; clang 14, which builds the fuzz targets, does not yet.
template <typename... Handlers>
Overloaded(Handlers...) -> Overloaded<Handlers...>;

// How many items a list or a sub-table holds.
std::uint64_t item_count(const Cell& cell) {
  return std::visit(
      Overloaded{
          [](const std::vector<std::uint64_t>& list) -> std::uint64_t { return list.size(); },
          [](const std::vector<double>& list) -> std::uint64_t { return list.size(); },
          [](const std::shared_ptr<const ResultTable>& table) -> std::uint64_t {
            return table ? table->row_count() : 0;
          },
          [](const auto&) -> std::uint64_t { return 0; }},
      cell);
}

bool is_collection(const Cell& cell) {
  return std::holds_alternative<std::vector<std::uint64_t>>(cell) ||
         std::holds_alternative<std::vector<double>>(cell) ||
         std::holds_alternative<std::shared_ptr<const ResultTable>>(cell);
}

// The shortest text that reads back as the same double ("0.1", "160", "1e-07"; "nan", "inf").
std::string shortest(double value) {
  char text[64];
  const auto [end, failure] = std::to_chars(text, text + sizeof text, value);
  return failure == std::errc() ? std::string(text, end) : std::string("nan");
}

std::string text_cell(const Column& column, const Cell& cell) {
  if (std::holds_alternative<std::monostate>(cell)) return "-";
  if (is_collection(cell)) return std::to_string(item_count(cell));
  if (const auto* text = std::get_if<std::string>(&cell)) return *text;
  if (const auto* whole = std::get_if<std::uint64_t>(&cell)) {
    if (*whole == 0 && !column.zero_text.empty()) return column.zero_text;
    return std::to_string(*whole) + column.text_suffix;
  }
  char number[64];
  std::snprintf(number, sizeof number, "%.*f", column.decimals,
                std::get<double>(cell) * column.text_scale);
  return number + column.text_suffix;
}

std::string csv_field(const Cell& cell) {
  return std::visit(Overloaded{[](std::monostate) { return std::string(); },
                               [](std::uint64_t whole) { return std::to_string(whole); },
                               [](double real) { return shortest(real); },
                               [](const std::string& text) {
                                 if (text.find_first_of(",\"\r\n") == std::string::npos)
                                   return text;
                                 std::string quoted = "\"";
                                 for (const char c : text) {
                                   if (c == '"') quoted += '"';  // a quote inside is doubled
                                   quoted += c;
                                 }
                                 return quoted + "\"";
                               },
                               [&cell](const auto&) { return std::to_string(item_count(cell)); }},
                    cell);
}

nlohmann::json json_value(const Cell& cell) {
  return std::visit(Overloaded{[](std::monostate) { return nlohmann::json(); },
                               [](const std::shared_ptr<const ResultTable>& table) {
                                 return table ? to_json(*table) : nlohmann::json::array();
                               },
                               [](const auto& value) { return nlohmann::json(value); }},
                    cell);
}

}  // namespace

ResultTable::ResultTable(std::vector<Column> columns) : columns_(std::move(columns)) {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    Column& column = columns_[i];
    if (column.name.empty())
      throw std::invalid_argument("column " + std::to_string(i) + " has no name");
    for (std::size_t j = 0; j < i; ++j) {
      if (columns_[j].name == column.name) {
        throw std::invalid_argument("two columns are named '" + column.name + "'");
      }
    }
    if (column.heading.empty()) column.heading = column.name;
  }
}

ResultTable::Row ResultTable::add_row() {
  rows_.emplace_back(columns_.size());
  return Row(*this, rows_.size() - 1);
}

ResultTable::Row& ResultTable::Row::set(std::string_view column, Cell value) {
  table_.rows_[index_][table_.column_index(column)] = std::move(value);
  return *this;
}

const Cell& ResultTable::at(std::size_t row, std::string_view column) const {
  return rows_.at(row)[column_index(column)];
}

std::size_t ResultTable::column_index(std::string_view name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return i;
  }
  throw std::invalid_argument("no column named '" + std::string(name) + "'");
}

std::string to_text_table(const ResultTable& table) {
  std::vector<std::size_t> shown;
  for (std::size_t i = 0; i < table.columns().size(); ++i) {
    if (table.columns()[i].outputs & kText) shown.push_back(i);
  }
  // Every line as cells first, so that each column can be as wide as its widest cell.
  std::vector<std::vector<std::string>> lines(1 + table.row_count());
  for (const std::size_t i : shown) {
    const Column& column = table.columns()[i];
    lines[0].push_back(column.heading);
    for (std::size_t row = 0; row < table.row_count(); ++row) {
      lines[row + 1].push_back(text_cell(column, table.row(row)[i]));
    }
  }
  std::vector<std::size_t> widths(shown.size(), 0);
  for (const auto& line : lines) {
    for (std::size_t c = 0; c < line.size(); ++c) widths[c] = std::max(widths[c], line[c].size());
  }
  std::string text;
  for (const auto& line : lines) {
    for (std::size_t c = 0; c < line.size(); ++c) {
      const std::string padding(widths[c] - line[c].size(), ' ');
      const bool left = table.columns()[shown[c]].align_left;
      if (c > 0) text += ' ';
      if (!left) text += padding;
      text += line[c];
      if (left && c + 1 < line.size()) text += padding;  // no trailing blanks
    }
    text += '\n';
  }
  return text;
}

nlohmann::json to_json(const ResultTable& table) {
  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t row = 0; row < table.row_count(); ++row) {
    nlohmann::json object = nlohmann::json::object();
    for (std::size_t i = 0; i < table.columns().size(); ++i) {
      const Column& column = table.columns()[i];
      const Cell& cell = table.row(row)[i];
      if (!(column.outputs & kJson) || std::holds_alternative<std::monostate>(cell)) continue;
      object[column.name] = json_value(cell);
    }
    rows.push_back(std::move(object));
  }
  return rows;
}

std::string to_csv(const ResultTable& table) {
  std::string text;
  // field_of(i): the field of column i on this line.
  const auto append_line = [&](const auto& field_of) {
    bool first = true;
    for (std::size_t i = 0; i < table.columns().size(); ++i) {
      if (!(table.columns()[i].outputs & kCsv)) continue;
      if (!first) text += ',';
      text += field_of(i);
      first = false;
    }
    text += '\n';
  };
  append_line([&](std::size_t i) { return csv_field(table.columns()[i].name); });
  for (std::size_t row = 0; row < table.row_count(); ++row) {
    append_line([&](std::size_t i) { return csv_field(table.row(row)[i]); });
  }
  return text;
}

std::string range_text(double low, double high, int decimals) {
  char text[96];
  std::snprintf(text, sizeof text, "%.*f-%.*f", decimals, low, decimals, high);
  return text;
}

}  // namespace synthfarm::bench

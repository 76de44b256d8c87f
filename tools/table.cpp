#include "tools/table.hpp"

#include <algorithm>

#include "tools/cli.hpp"

namespace tl::admin {
namespace {

// Code points, counting any byte that does not continue a UTF-8 sequence.
std::size_t display_width(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string cut(const std::string& s, std::size_t max_chars) {
  if (max_chars == 0 || display_width(s) <= max_chars) return s;
  std::size_t chars = 0;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++chars == max_chars) break;  // room for "…"
  }
  return s.substr(0, i) + "…";
}

}  // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)), max_(headers_.size(), 0) {}

Table& Table::max_width(std::size_t column, std::size_t max_chars) {
  max_.at(column) = max_chars;
  return *this;
}

void Table::add(std::vector<std::string> row) {
  row.resize(headers_.size());
  for (std::size_t c = 0; c < row.size(); ++c) row[c] = cut(printable(row[c]), max_[c]);
  rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> width(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c) width[c] = display_width(headers_[c]);
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], display_width(row[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      text += cells[c];
      if (c + 1 < cells.size()) text.append(width[c] - display_width(cells[c]) + 2, ' ');
    }
    out << text << "\n";
  };
  line(headers_);
  std::vector<std::string> rule;
  for (std::size_t w : width) rule.emplace_back(w, '-');
  line(rule);
  for (const auto& row : rows_) line(row);
}

}  // namespace tl::admin

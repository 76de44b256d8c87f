// Readable tables for a terminal: a header, a rule, and left-aligned columns as wide as their
// widest cell (counted in characters, not bytes). Cells are made printable; long ones can be
// capped per column.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace tl::admin {

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // Cells longer than `max_chars` are cut with "…" (0: no limit).
  Table& max_width(std::size_t column, std::size_t max_chars);
  void add(std::vector<std::string> row);
  std::size_t size() const { return rows_.size(); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::size_t> max_;
  std::vector<std::vector<std::string>> rows_;
};

// "yes" / "no".
inline const char* yes_no(bool b) { return b ? "yes" : "no"; }

}  // namespace tl::admin

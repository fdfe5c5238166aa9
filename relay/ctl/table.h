#pragma once
// Aligned text tables for rtprelay-ctl's human-readable output: a header row, then rows of
// cells; columns are as wide as their widest cell (in bytes: NG values are ASCII in
// practice), two spaces apart, numeric columns right-aligned, no trailing spaces.

#include <string>
#include <vector>

namespace rtprelay::ctl {

class text_table {
 public:
    enum class align { left, right };

    // One header per column; align::right for numbers.
    void add_column(std::string header, align a = align::left);
    // Missing cells print empty; extra cells are ignored.
    void add_row(std::vector<std::string> cells);
    bool empty() const { return rows_.empty(); }
    // indent: spaces in front of every line. Every line ends with '\n'.
    std::string render(int indent = 0) const;

 private:
    std::vector<std::string> headers_;
    std::vector<align> aligns_;
    std::vector<std::vector<std::string>> rows_;
};

// Two-column "name  value" lines without a header, names left, values right-aligned.
std::string key_values(const std::vector<std::pair<std::string, std::string>>& kv, int indent = 0);

}  // namespace rtprelay::ctl

#include "relay/ctl/table.h"

#include <algorithm>

namespace rtprelay::ctl {

namespace {
void pad_cell(std::string* line, const std::string& cell, size_t width, text_table::align a, bool last) {
    const size_t fill = width > cell.size() ? width - cell.size() : 0;
    if (a == text_table::align::right) {
        line->append(fill, ' ');
        line->append(cell);
    } else {
        line->append(cell);
        if (!last) {
            line->append(fill, ' ');
        }
    }
}

std::string render_rows(const std::vector<std::vector<std::string>>& rows, const std::vector<text_table::align>& aligns,
                        int indent) {
    std::vector<size_t> width(aligns.size(), 0);
    for (const auto& r : rows) {
        for (size_t c = 0; c < width.size() && c < r.size(); ++c) {
            width[c] = std::max(width[c], r[c].size());
        }
    }
    std::string out;
    static const std::string none;
    for (const auto& r : rows) {
        std::string line(static_cast<size_t>(std::max(indent, 0)), ' ');
        for (size_t c = 0; c < width.size(); ++c) {
            if (c > 0) {
                line.append("  ");
            }
            pad_cell(&line, c < r.size() ? r[c] : none, width[c], aligns[c], c + 1 == width.size());
        }
        while (!line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        out.append(line);
        out.push_back('\n');
    }
    return out;
}
}  // namespace

void text_table::add_column(std::string header, align a) {
    headers_.push_back(std::move(header));
    aligns_.push_back(a);
}

void text_table::add_row(std::vector<std::string> cells) {
    cells.resize(headers_.size());
    rows_.push_back(std::move(cells));
}

std::string text_table::render(int indent) const {
    std::vector<std::vector<std::string>> all;
    all.reserve(rows_.size() + 1);
    all.push_back(headers_);
    all.insert(all.end(), rows_.begin(), rows_.end());
    return render_rows(all, aligns_, indent);
}

std::string key_values(const std::vector<std::pair<std::string, std::string>>& kv, int indent) {
    std::vector<std::vector<std::string>> rows;
    rows.reserve(kv.size());
    for (const auto& [k, v] : kv) {
        rows.push_back({k, v});
    }
    return render_rows(rows, {text_table::align::left, text_table::align::right}, indent);
}

}  // namespace rtprelay::ctl

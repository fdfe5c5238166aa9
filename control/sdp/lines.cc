#include "control/sdp/lines.h"

namespace rtprelay::sdp::detail {

char line::type() const {
    if (text.size() < 2 || text[1] != '=' || text[0] < 'a' || text[0] > 'z') {
        return 0;
    }
    return text[0];
}

bool line_reader::next(line& out) {
    if (pos_ >= text_.size()) {
        return false;
    }
    const size_t lf = text_.find('\n', pos_);
    size_t end = lf == std::string_view::npos ? text_.size() : lf;
    size_t next_pos = lf == std::string_view::npos ? text_.size() : lf + 1;
    if (lf != std::string_view::npos && end > pos_ && text_[end - 1] == '\r') {
        --end;
    }
    out.text = text_.substr(pos_, end - pos_);
    out.ending = text_.substr(end, next_pos - end);
    out.number = ++number_;
    pos_ = next_pos;
    return true;
}

std::string_view first_line_ending(std::string_view text) {
    const size_t lf = text.find('\n');
    if (lf == std::string_view::npos) {
        return "\r\n";
    }
    if (lf > 0 && text[lf - 1] == '\r') {
        return "\r\n";
    }
    return "\n";
}

}  // namespace rtprelay::sdp::detail

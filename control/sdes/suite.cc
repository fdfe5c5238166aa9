#include "control/sdes/suite.h"

namespace rtprelay::sdes {

std::string_view suite_name(suite s) { return dp::srtp::info(s).name; }

std::optional<suite> suite_from_sdes_name(std::string_view name) { return dp::srtp::suite_from_name(name); }

}  // namespace rtprelay::sdes

#pragma once
// SIGUSR1 marks a moment of the run, e.g. a test's kill -9 of the relay node the calls go
// through: from then on every stream also keeps its longest gap between arrivals that ends
// after the mark (stream_stats::set_mark), so a failover's gap is told apart from one the
// generator itself caused earlier (a stalled host). The first SIGUSR1 counts; later ones
// are ignored.

#include <cstdint>

namespace rtprelay::loadgen {

void install_mark_handler();  // SIGUSR1
// CLOCK_MONOTONIC ns of the mark, 0 = none yet. Any thread; a relaxed load.
int64_t mark_ns();

}  // namespace rtprelay::loadgen

#pragma once
// Ctrl-C / SIGTERM end the run early but cleanly: setup stops offering, streaming stops
// sending, and the calls already made are still queried and deleted, so an interrupted
// run leaves nothing behind on the relay. A second signal kills the process as usual.

namespace rtprelay::loadgen {

void install_stop_handler();  // SIGINT and SIGTERM
bool stop_requested();        // any thread; a relaxed load

}  // namespace rtprelay::loadgen

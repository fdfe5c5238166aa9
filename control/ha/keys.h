#pragma once
// Where a group keeps things in Redis. One prefix per group, so that several groups (or a
// test's) can share a Redis:
//
//   rtprelay:G:call:CALLID     the call's sealed record (record.h)
//   rtprelay:G:calls:NODE      SET of the call-ids NODE holds
//   rtprelay:G:lease:ADDR      NODE while it serves media address ADDR (PX: the lease time)
//   rtprelay:G:holder:ADDR     the last node that held ADDR's lease (no expiry): whose
//                              calls a taker loads
//   rtprelay:G:node:NODE       NODE's heartbeat, "calls=N ng=ADDR:PORT" (PX: the lease time)
//   rtprelay:G:nodes           SET of every node that ever joined
//   rtprelay:G:handover:NODE   "TARGET": NODE is asked to hand everything to TARGET

#include <string>
#include <string_view>

namespace rtprelay::ha::keys {

inline std::string prefix(std::string_view group) { return "rtprelay:" + std::string(group) + ":"; }
inline std::string call(std::string_view g, std::string_view id) { return prefix(g) + "call:" + std::string(id); }
inline std::string calls(std::string_view g, std::string_view node) { return prefix(g) + "calls:" + std::string(node); }
inline std::string lease(std::string_view g, std::string_view addr) { return prefix(g) + "lease:" + std::string(addr); }
inline std::string holder(std::string_view g, std::string_view addr) {
    return prefix(g) + "holder:" + std::string(addr);
}
inline std::string node(std::string_view g, std::string_view n) { return prefix(g) + "node:" + std::string(n); }
inline std::string nodes(std::string_view g) { return prefix(g) + "nodes"; }
inline std::string handover(std::string_view g, std::string_view n) { return prefix(g) + "handover:" + std::string(n); }

}  // namespace rtprelay::ha::keys

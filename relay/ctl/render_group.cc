#include "relay/ctl/render.h"

#include "relay/ctl/table.h"

namespace rtprelay::ctl {

namespace {
std::string str_of(const ng::value& v, const char* key) {
    const ng::value* x = v.find(key);
    return x != nullptr && x->is_string() ? x->as_string() : std::string();
}

int64_t int_of(const ng::value& v, const char* key) {
    const ng::value* x = v.find(key);
    return x != nullptr && x->is_integer() ? x->as_integer() : 0;
}
}  // namespace

std::string render_group(const ng::value& reply) {
    static const ng::value none = ng::value::dict();
    const ng::value* redis = reply.find("redis");
    const ng::value& r = redis != nullptr ? *redis : none;
    std::string out = "group " + str_of(reply, "group") + ", node " + str_of(reply, "node") + ": " +
                      std::to_string(int_of(reply, "calls")) + " calls; Redis " +
                      (int_of(r, "up") != 0 ? "up" : "DOWN") + " (" + std::to_string(int_of(r, "writes")) +
                      " writes, " + std::to_string(int_of(r, "write failures")) + " lost, queue " +
                      std::to_string(int_of(r, "queue depth")) + ", " + std::to_string(int_of(r, "records dirty")) +
                      " to write again)\n";
    const ng::value* h = reply.find("handover");
    if (h != nullptr && str_of(*h, "phase") != "none") {
        out += "handover to " + str_of(*h, "to") + ": " + str_of(*h, "phase") + "\n";
    }
    text_table a;
    a.add_column("address");
    a.add_column("lease holder");
    a.add_column("served here");
    if (const ng::value* l = reply.find("addresses"); l != nullptr && l->is_list()) {
        for (const ng::value& x : l->as_list()) {
            const std::string holder = str_of(x, "holder");
            a.add_row(
                {str_of(x, "address"), holder.empty() ? "-" : holder, int_of(x, "served here") != 0 ? "yes" : "no"});
        }
    }
    out += a.render();
    text_table n;
    n.add_column("node");
    n.add_column("alive");
    n.add_column("calls", text_table::align::right);
    n.add_column("NG");
    if (const ng::value* l = reply.find("nodes"); l != nullptr && l->is_list()) {
        for (const ng::value& x : l->as_list()) {
            const bool alive = int_of(x, "alive") != 0;
            n.add_row({str_of(x, "name"), alive ? "yes" : "no", alive ? std::to_string(int_of(x, "calls")) : "-",
                       alive ? str_of(x, "ng") : "-"});
        }
    }
    if (!n.empty()) {
        out += n.render();
    }
    return out;
}

}  // namespace rtprelay::ctl

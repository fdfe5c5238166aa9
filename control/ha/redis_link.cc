#include "control/ha/redis_link.h"

#include <poll.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

namespace rtprelay::ha {

namespace {
timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

// A reply's kind from hiredis' type; an unknown type is an error.
redis_value::kind kind_of(int type) {
    switch (type) {
        case REDIS_REPLY_NIL:
            return redis_value::kind::nil;
        case REDIS_REPLY_STATUS:
            return redis_value::kind::status;
        case REDIS_REPLY_INTEGER:
            return redis_value::kind::integer;
        case REDIS_REPLY_STRING:
            return redis_value::kind::string;
        case REDIS_REPLY_ARRAY:
            return redis_value::kind::array;
        default:
            return redis_value::kind::error;
    }
}

redis_value convert(const redisReply* r) {
    redis_value v;
    if (r == nullptr) {
        return v;
    }
    v.type = kind_of(r->type);
    switch (r->type) {
        case REDIS_REPLY_NIL:
            break;
        case REDIS_REPLY_INTEGER:
            v.integer = r->integer;
            break;
        case REDIS_REPLY_ARRAY:
            v.elements.reserve(r->elements);
            for (size_t i = 0; i < r->elements; ++i) {
                v.elements.push_back(convert(r->element[i]));
            }
            break;
        case REDIS_REPLY_STATUS:
        case REDIS_REPLY_ERROR:
        case REDIS_REPLY_STRING:
            v.str.assign(r->str, r->len);
            break;
        default:
            v.str = "unexpected reply type";
    }
    return v;
}
}  // namespace

redis_conn::~redis_conn() { close(); }

void redis_conn::close() {
    if (c_ != nullptr) {
        redisFree(c_);
        c_ = nullptr;
    }
}

bool redis_conn::open(const host_port& where, std::chrono::milliseconds timeout, std::string* why) {
    close();
    redisContext* c = redisConnectWithTimeout(where.host.c_str(), where.port, to_timeval(timeout));
    if (c == nullptr) {
        *why = "out of memory";
        return false;
    }
    if (c->err != 0) {
        *why = where.to_string() + ": " + c->errstr;
        redisFree(c);
        return false;
    }
    redisSetTimeout(c, to_timeval(timeout));
    c_ = c;
    return true;
}

std::vector<redis_value> redis_conn::pipeline(const std::vector<redis_command>& cmds) {
    std::vector<redis_value> out(cmds.size());
    if (c_ == nullptr) {
        return out;
    }
    for (const auto& cmd : cmds) {
        append_args(cmd);
    }
    for (size_t i = 0; i < cmds.size() && c_ != nullptr; ++i) {
        void* r = nullptr;
        if (redisGetReply(c_, &r) != REDIS_OK || r == nullptr) {
            close();
            return out;  // this one and the rest stay `failed`
        }
        out[i] = convert(static_cast<redisReply*>(r));
        freeReplyObject(r);
    }
    return out;
}

void redis_conn::append(std::span<const std::string_view> args) { append_args(args); }

template <typename Args>
void redis_conn::append_args(const Args& args) {
    if (c_ == nullptr) {
        return;
    }
    argv_.clear();
    lens_.clear();
    for (const auto& a : args) {
        argv_.push_back(a.data());
        lens_.push_back(a.size());
    }
    if (redisAppendCommandArgv(c_, static_cast<int>(argv_.size()), argv_.data(), lens_.data()) != REDIS_OK) {
        close();  // out of memory: the replies would not match the commands
    }
}

reply_brief redis_conn::read_brief() {
    reply_brief b;
    if (c_ == nullptr) {
        return b;
    }
    void* p = nullptr;
    if (redisGetReply(c_, &p) != REDIS_OK || p == nullptr) {
        close();
        return b;
    }
    const auto* r = static_cast<const redisReply*>(p);
    b.type = kind_of(r->type);
    b.readonly = r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).starts_with("READONLY");
    freeReplyObject(p);
    return b;
}

redis_value redis_conn::run(const redis_command& cmd) {
    return std::move(pipeline(std::vector<redis_command>{cmd})[0]);
}

std::vector<redis_value> redis_conn::poll_messages() {
    std::vector<redis_value> out;
    if (c_ == nullptr) {
        return out;
    }
    pollfd p{c_->fd, POLLIN, 0};
    while (poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        if (redisBufferRead(c_) != REDIS_OK) {
            close();
            return out;
        }
        void* r = nullptr;
        while (redisGetReplyFromReader(c_, &r) == REDIS_OK && r != nullptr) {
            out.push_back(convert(static_cast<redisReply*>(r)));
            freeReplyObject(r);
            r = nullptr;
        }
        p.revents = 0;
    }
    return out;
}

redis_link::redis_link(const group_config& cfg) : cfg_(cfg) {}

bool redis_link::discover(host_port* out, std::string* why) {
    const size_t n = cfg_.sentinels.size();
    for (size_t k = 0; k < n; ++k) {
        const size_t i = (next_sentinel_ + k) % n;
        redis_conn s;
        if (!s.open(cfg_.sentinels[i], cfg_.redis_timeout, why)) {
            continue;
        }
        const redis_value v = s.run({"SENTINEL", "get-master-addr-by-name", cfg_.master_name});
        if (v.type != redis_value::kind::array || v.elements.size() != 2 ||
            v.elements[0].type != redis_value::kind::string || v.elements[1].type != redis_value::kind::string) {
            *why = "Sentinel " + cfg_.sentinels[i].to_string() + " does not know master '" + cfg_.master_name + "'";
            continue;
        }
        try {
            *out = parse_host_port("sentinel", v.elements[0].str + ":" + v.elements[1].str);
        } catch (const std::exception& e) {
            *why = e.what();
            continue;
        }
        next_sentinel_ = i;
        if (!sub_.is_open()) {
            std::string ignored;
            if (sub_.open(cfg_.sentinels[i], cfg_.redis_timeout, &ignored) &&
                !sub_.run({"SUBSCRIBE", "+switch-master"}).ok()) {
                sub_.close();
            }
        }
        return true;
    }
    return false;
}

bool redis_link::connect_master(const host_port& where, std::string* why) {
    if (!master_.open(where, cfg_.redis_timeout, why)) {
        return false;
    }
    if (!cfg_.password.empty()) {
        redis_command auth{"AUTH"};
        if (!cfg_.user.empty()) {
            auth.push_back(cfg_.user);
        }
        auth.push_back(cfg_.password);
        const redis_value v = master_.run(auth);
        if (!v.ok()) {
            *why = where.to_string() + ": AUTH failed: " + (v.type == redis_value::kind::failed ? "no reply" : v.str);
            master_.close();
            return false;
        }
    }
    // A Sentinel may name a master that has just been demoted: ask the server itself.
    const redis_value role = master_.run({"ROLE"});
    if (role.type != redis_value::kind::array || role.elements.empty() || role.elements[0].str != "master") {
        *why = where.to_string() + " is not a master" +
               (role.type == redis_value::kind::error ? " (" + role.str + ")" : std::string());
        master_.close();
        return false;
    }
    where_ = where;
    ++connects_;
    return true;
}

bool redis_link::ensure(std::string* why) {
    if (master_.is_open()) {
        return true;
    }
    host_port where = cfg_.redis;
    if (!cfg_.sentinels.empty() && !discover(&where, why)) {
        return false;
    }
    return connect_master(where, why);
}

bool redis_link::master_moved() {
    bool moved = false;
    for (const redis_value& m : sub_.poll_messages()) {
        // ["message", "+switch-master", "<name> <old-ip> <old-port> <new-ip> <new-port>"]
        if (m.type == redis_value::kind::array && m.elements.size() == 3 &&
            m.elements[2].str.rfind(cfg_.master_name + " ", 0) == 0) {
            moved = true;
        }
    }
    if (moved) {
        master_.close();
    }
    return moved;
}

}  // namespace rtprelay::ha

#include "relay/options.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>

#include "control/admission/admission.h"
#include "control/log.h"
#include "control/ng/server.h"
#include "control/recording/policy.h"
#include "control/words.h"

namespace po = boost::program_options;

namespace rtprelay {

namespace {
template <typename T>
void at_least(const char* name, T value, T min) {
    if (value < min) {
        throw options_error("option '--" + std::string(name) + "': must be at least " + std::to_string(min));
    }
}

// The words of a comma- (or blank-) separated option ("198.18.1.1,198.18.2.1"); none when
// the option is not given.
std::vector<std::string> comma_list(const po::variables_map& vm, const char* name) {
    std::vector<std::string> out;
    if (vm.count(name) != 0) {
        std::string list = vm[name].as<std::string>();
        std::replace(list.begin(), list.end(), ',', ' ');
        for (std::string_view w : split_words(list)) {
            out.emplace_back(w);
        }
    }
    return out;
}
}  // namespace

std::optional<relay_options> parse_options(int argc, char** argv) {
    relay_options o;
    std::string config_file;
    std::string eal;
    // clang-format off
    // Boost option tables, one option per line (clang-format 14 honours only the bare
    // "clang-format off" comment, with nothing after it).
    po::options_description general("General");
    general.add_options()
        ("help,h", "print this help and exit")
        ("version", "print the version and exit")
        ("check-config", po::bool_switch(&o.check_config),
         "validate the options and interfaces without starting DPDK, print a summary and exit (0 = valid)")
        ("config,c", po::value(&config_file), "INI configuration file (options below, sections allowed as prefixes)")
        ("log-level", po::value(&o.log_level)->default_value(o.log_level), "error | warning | info | debug")
        ("stats-interval", po::value(&o.stats_interval)->default_value(o.stats_interval),
         "seconds between data plane counter log lines (0 = off)")
        ("metrics-listen", po::value(&o.metrics_listen),
         "serve Prometheus /metrics on ADDR:PORT (e.g. 127.0.0.1:9100); empty = off");
    po::options_description dataplane("Data plane");
    dataplane.add_options()
        ("eal", po::value(&eal), "DPDK EAL arguments, e.g. \"-l 0-1 --no-pci --vdev=net_af_packet0,iface=eth1\"; "
                                 "arguments after -- are appended")
        ("workers", po::value(&o.workers)->default_value(o.workers), "worker lcores (needs workers+1 lcores in -l)")
        ("mbufs", po::value(&o.mbufs)->default_value(o.mbufs),
         "packet buffers in the mbuf pool beyond one per RX/TX descriptor (which the pool also gets)")
        ("max-flows", po::value(&o.max_flows)->default_value(o.max_flows), "flow table capacity (4 per relayed stream)")
        ("max-neighbours", po::value(&o.max_neighbours)->default_value(o.max_neighbours), "next-hop table capacity")
        ("idle-sleep-us", po::value(&o.idle_sleep_us)->default_value(o.idle_sleep_us),
         "sleep this long after a run of empty polls (shared-core tests); 0 = busy polling (production)")
        ("flow-steering", po::value(&o.flow_steering)->default_value(o.flow_steering),
         "auto: with 2, 4, 8 or 16 workers, NIC flow rules deliver each stream to its worker's queue "
         "(plain RSS and handoff rings where a port refuses them); off: RSS and handoff only; "
         "sender: no rules, the peer sends each stream on its worker's queue (a generator on memif, "
         "rtprelay-loadgen --dpdk-queues), handoff for what it does not");
    po::options_description media("Media interfaces");
    media.add_options()
        ("interface", po::value(&o.interfaces)->composing(),
         "logical interface, repeatable: \"NAME address=IP/PREFIX[,IP/PREFIX] dpdk-port=N "
         "[gateway=IP] [vlan=N] [ports=10000-20000] [srtp=off|optional|required] "
         "[offer-suites=S,...] [accept-suites=S,...] [unencrypted-srtcp=allow|refuse] [mki=accept|refuse]\"")
        ("srtp-engine", po::value(&o.srtp_engine)->default_value(o.srtp_engine),
         "SRTP implementation: native (rtprelay's own, fast) or libsrtp2");
    po::options_description control("Control (NG protocol)");
    control.add_options()
        ("ng-listen", po::value(&o.ng_listen)->default_value(o.ng_listen), "management address:port for NG")
        ("ng-allow", po::value(&o.ng_allow)->composing(),
         "proxy address or CIDR allowed to send NG (repeatable; default loopback)")
        ("ng-cache-entries", po::value(&o.ng_cache_entries)->default_value(o.ng_cache_entries),
         "replies kept for retransmits")
        ("ng-cache-age", po::value(&o.ng_cache_age)->default_value(o.ng_cache_age),
         "seconds a reply is kept for retransmits");
    po::options_description sessions("Sessions and admission (timeouts like rtpengine's; 0 turns one off)");
    sessions.add_options()
        ("capacity", po::value(&o.capacity)->default_value(o.capacity),
         "node bandwidth budget per direction (e.g. 1G): new calls past it get `load limit`; 0 = none")
        ("call-bandwidth", po::value(&o.call_bandwidth)->default_value(o.call_bandwidth),
         "bandwidth each call reserves per direction (80k: G.711 64k + 16k overhead), or 'wire': what each leg "
         "costs with its IP version and SRTP tag (G.711 over IPv6 with SRTP: 92k)")
        ("max-cps", po::value(&o.max_cps)->default_value(o.max_cps),
         "new calls per second the node admits (setup storm protection); 0 = no limit")
        ("timeout", po::value(&o.timeout)->default_value(o.timeout),
         "seconds without media before an answered call is closed")
        ("silent-timeout", po::value(&o.silent_timeout)->default_value(o.silent_timeout), "the same for calls on hold")
        ("offer-timeout", po::value(&o.offer_timeout)->default_value(o.offer_timeout),
         "seconds an offer may wait for its answer")
        ("final-timeout", po::value(&o.final_timeout)->default_value(o.final_timeout), "absolute call length limit")
        ("delete-delay", po::value(&o.delete_delay)->default_value(o.delete_delay),
         "seconds between an NG delete and the call's end")
        ("drain-time", po::value(&o.drain_time)->default_value(o.drain_time),
         "seconds open calls keep relaying after SIGTERM/SIGINT (new calls refused; exits earlier when the "
         "last call ends; a second signal exits at once); 0 = exit at once");
    po::options_description rec("Call recording");
    rec.add_options()
        ("recording", po::value(&o.recording)->default_value(o.recording),
         "record calls: off (only when NG asks), from-answer, from-ringing (from the first media after the "
         "offer); an interface's recording= wins for its legs")
        ("recording-channels", po::value(&o.recording_channels)->default_value(o.recording_channels),
         "WAV layout: dual (one channel per leg) or mixed")
        ("recording-dir", po::value(&o.recording_dir),
         "directory for recordings (created 0700; finished ones move to its done/); empty = no recording")
        ("recording-command", po::value(&o.recording_command),
         "program (and words) run with the paths of each finished recording's files")
        ("recording-open-files", po::value(&o.recording_open_files)->default_value(o.recording_open_files),
         "pcap files the recorder keeps open at once (more recorded calls take turns; the open-files limit is "
         "raised to hold them beside 1,024 others, as far as its hard limit allows)")
        ("recording-flush-ms", po::value(&o.recording_flush_ms)->default_value(o.recording_flush_ms),
         "a recording's packets reach its pcap file within this many ms (+1/16; what a node killed loses; "
         "shorter costs the recorder more CPU per packet)")
        ("recording-ring-mb", po::value(&o.recording_ring_mb)->default_value(o.recording_ring_mb),
         "MiB per worker between the worker and the recorder (a power of two; 32 MiB holds 160,000 G.711 packets)");
    ha::group_options& g = o.group;
    po::options_description group("High availability (a group of nodes sharing calls through Redis; README)");
    group.add_options()
        ("group", po::value(&g.group), "group name; empty = this node stands alone")
        ("node", po::value(&g.node), "this node's name in the group (default: the host name)")
        ("redis", po::value(&g.redis), "HOST:PORT of a single Redis (or --sentinel)")
        ("sentinel", po::value(&g.sentinels)->composing(), "HOST:PORT of a Redis Sentinel (repeatable)")
        ("redis-master", po::value(&g.master_name)->default_value(g.master_name), "the Sentinels' name for the master")
        ("redis-user", po::value(&g.user), "Redis ACL user (needs --redis-password-file)")
        ("redis-password-file", po::value(&g.password_file), "file whose first line is the Redis password")
        ("group-key-file", po::value(&g.key_file),
         "file with the group's key, 64 hex digits (openssl rand -hex 32): seals call records (SDES keys)")
        ("home-addresses", po::value<std::string>(),
         "media addresses (comma-separated, from --interface) this node leases at start; none = a standby")
        ("ng-float-interface", po::value(&g.ng_float_interface),
         "management interface the group's NG addresses move on (needs CAP_NET_ADMIN); empty = they stay put")
        ("ng-float-addresses", po::value<std::string>(),
         "every node's NG address with its prefix (comma-separated, e.g. 198.19.0.11/24,198.19.0.12/24; this "
         "node's is --ng-listen's): leased with the media addresses, added to --ng-float-interface by its holder")
        ("ng-float-release", po::bool_switch(&o.ng_float_release),
         "remove every --ng-float-addresses address from --ng-float-interface and exit (no EAL): the "
         "systemd unit's ExecStopPost, so that a node that died answers NG on none of them")
        ("lease-ms", po::value(&g.lease_ms)->default_value(g.lease_ms),
         "media address lease time; a dead node's addresses move to a peer about this long after it stops")
        ("redis-timeout-ms", po::value(&g.redis_timeout_ms)->default_value(g.redis_timeout_ms),
         "connect and command timeout for Redis and Sentinel")
        ("redis-queue", po::value(&g.queue)->default_value(g.queue),
         "call record writes waiting for Redis; past it, calls are marked and written again later");
    // clang-format on
    po::options_description all("rtprelay — RTP/SRTP media relay on DPDK\n\nUsage: rtprelay [options] [-- EAL args]");
    all.add(general).add(dataplane).add(media).add(sessions).add(control).add(rec).add(group);

    // Everything after a lone "--" goes to EAL untouched.
    std::vector<std::string> args;
    std::vector<std::string> trailing_eal;
    bool after = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (!after && a == "--") {
            after = true;
            continue;
        }
        (after ? trailing_eal : args).push_back(a);
    }
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).run(), vm);
        if (vm.count("help") != 0) {
            std::cout << all << "\n";
            return std::nullopt;
        }
        if (vm.count("version") != 0) {
            std::cout << "rtprelay 0.1.0\n";
            return std::nullopt;
        }
        if (vm.count("config") != 0) {
            const std::string path = vm["config"].as<std::string>();
            std::ifstream f(path);
            if (!f) {
                throw options_error("option '--config': cannot read '" + path + "'");
            }
            po::store(po::parse_config_file(f, all, false), vm);
        }
        po::notify(vm);
    } catch (const po::error& e) {
        throw options_error(e.what());
    }
    if (!log::set_threshold(o.log_level)) {
        throw options_error("option '--log-level': '" + o.log_level + "' is not error, warning, info or debug");
    }
    at_least("workers", o.workers, 1u);
    if (o.workers > 16) {
        throw options_error("option '--workers': at most 16");
    }
    at_least("mbufs", o.mbufs, 1023u);
    at_least("max-flows", o.max_flows, 64u);
    at_least("max-neighbours", o.max_neighbours, 16u);
    if (!parse_bandwidth(o.capacity)) {
        throw options_error("option '--capacity': '" + o.capacity + "' is not a bandwidth (e.g. 1G, 800M, 0)");
    }
    if (auto b = parse_bandwidth(o.call_bandwidth); o.call_bandwidth != "wire" && (!b || *b == 0)) {
        throw options_error("option '--call-bandwidth': '" + o.call_bandwidth +
                            "' is not a positive bandwidth (e.g. 80k) or 'wire'");
    }
    if (!(o.max_cps >= 0)) {
        throw options_error("option '--max-cps': must be 0 or more");
    }
    if (o.drain_time > 86400) {  // also catches "-1", which Boost wraps to 4294967295
        throw options_error("option '--drain-time': at most 86400 seconds");
    }
    if (o.flow_steering != "auto" && o.flow_steering != "off" && o.flow_steering != "sender") {
        throw options_error("option '--flow-steering': '" + o.flow_steering + "' is not auto, off or sender");
    }
    if (o.srtp_engine != "native" && o.srtp_engine != "libsrtp2") {
        throw options_error("option '--srtp-engine': '" + o.srtp_engine + "' is not native or libsrtp2");
    }
    if (!o.metrics_listen.empty()) {
        auto ep = ng::parse_endpoint(o.metrics_listen, true);
        if (!ep || ep->port() == 0) {
            throw options_error("option '--metrics-listen': '" + o.metrics_listen +
                                "' is not ADDR:PORT (e.g. 127.0.0.1:9100)");
        }
    }
    if (!recording::parse_mode(o.recording)) {
        throw options_error("option '--recording': '" + o.recording + "' is not off, from-answer or from-ringing");
    }
    if (!recording::parse_channels(o.recording_channels)) {
        throw options_error("option '--recording-channels': '" + o.recording_channels + "' is not mixed or dual");
    }
    if (*recording::parse_mode(o.recording) != recording::mode::off && o.recording_dir.empty()) {
        throw options_error("option '--recording': recording calls needs --recording-dir");
    }
    at_least("recording-open-files", o.recording_open_files, 1u);
    if (o.recording_flush_ms < 10 || o.recording_flush_ms > 10'000) {
        throw options_error("option '--recording-flush-ms': must be from 10 to 10000");
    }
    if (o.recording_ring_mb < 1 || o.recording_ring_mb > 1024 ||
        (o.recording_ring_mb & (o.recording_ring_mb - 1)) != 0) {
        throw options_error("option '--recording-ring-mb': must be a power of two from 1 to 1024");
    }
    if (o.interfaces.empty()) {
        throw options_error("option '--interface': at least one media interface is required");
    }
    o.group.home_addresses = comma_list(vm, "home-addresses");
    o.group.ng_float_addresses = comma_list(vm, "ng-float-addresses");
    o.group.ng_listen = o.ng_listen;
    o.group.srtp_engine = o.srtp_engine;
    for (std::string_view w : split_words(eal)) {
        o.eal_args.emplace_back(w);
    }
    o.eal_args.insert(o.eal_args.end(), trailing_eal.begin(), trailing_eal.end());
    return o;
}

}  // namespace rtprelay

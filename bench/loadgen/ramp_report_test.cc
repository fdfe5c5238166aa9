#include "bench/loadgen/ramp_report.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace lg = rtprelay::loadgen;

namespace {

lg::ramp_step step(uint32_t calls, double loss_percent, lg::step_verdict v) {
    lg::ramp_step st{};
    st.summary.calls_requested = calls;
    st.summary.packets_sent = 100000;
    st.summary.packets_lost = static_cast<uint64_t>(loss_percent * 1000);
    st.summary.latency_p99_ns = 250'000;
    st.summary.stream_seconds = 10;
    st.verdict = v;
    return st;
}

}  // namespace

TEST(RampReport, LoadIsBusiestWorkerElseProcessCpu) {
    lg::ramp_step busy = step(100, 0, lg::step_verdict::good);
    busy.summary.relay_busy = lg::relay_busy_time{{3.0, 5.0}, 4'000'000, std::nullopt, std::nullopt, {}};
    busy.summary.relay_cpu_seconds = 9.0;  // ignored: the workers' busy time is the figure
    EXPECT_DOUBLE_EQ(*lg::relay_load_percent(busy.summary), 50.0);
    EXPECT_DOUBLE_EQ(*lg::relay_ns_per_packet(busy.summary), 2000.0);
    EXPECT_EQ(lg::relay_load_kind({busy}), "worker busy time");

    lg::ramp_step cpu = step(100, 0, lg::step_verdict::good);
    cpu.summary.relay_cpu_seconds = 2.5;
    cpu.summary.packets_received = 1000;
    EXPECT_DOUBLE_EQ(*lg::relay_load_percent(cpu.summary), 25.0);
    EXPECT_DOUBLE_EQ(*lg::relay_ns_per_packet(cpu.summary), 2.5e6);
    EXPECT_EQ(lg::relay_load_kind({cpu}), "process CPU");

    EXPECT_FALSE(lg::relay_load_percent(step(100, 0, lg::step_verdict::good).summary).has_value());
}

TEST(RampReport, PlotDataIsOrderedByCallsWithNaNForUnmeasuredLoad) {
    std::vector<lg::ramp_step> steps = {step(100, 0, lg::step_verdict::good), step(400, 0.5, lg::step_verdict::loss),
                                        step(200, 0.004, lg::step_verdict::good)};
    steps[0].summary.relay_busy = lg::relay_busy_time{{1.0}, 1000, std::nullopt, std::nullopt, {}};
    EXPECT_EQ(lg::ramp_plot_data(steps),
              "# calls loss_percent p99_us load_percent verdict\n"
              "100 0.000000 250.0 10.000000 good\n"
              "200 0.004000 250.0 NaN good\n"
              "400 0.500000 250.0 NaN loss\n");
}

// gnuplot (Debian gnuplot-nox, in deploy/scripts/install-deps.sh) draws the ramp.
TEST(RampReport, WritesThePlotWithGnuplot) {
    char dir_template[] = "/tmp/rtprelay-plot-test.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    const std::string dir = dir_template;
    std::vector<lg::ramp_step> steps = {step(100, 0, lg::step_verdict::good), step(200, 0.3, lg::step_verdict::loss)};
    steps[0].summary.relay_busy = lg::relay_busy_time{{1.0}, 1000, std::nullopt, std::nullopt, {}};
    steps[1].summary.relay_busy = lg::relay_busy_time{{2.5}, 2000, std::nullopt, std::nullopt, {}};
    auto read = [](const std::string& path) {
        std::ifstream f(path, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    };
    for (const char* name : {"ramp.svg", "ramp.png"}) {
        std::string error;
        ASSERT_TRUE(lg::write_ramp_plot(dir + "/" + name, "test relay", steps, &error)) << error;
        const std::string image = read(dir + "/" + name);
        if (std::string(name).ends_with(".svg")) {
            EXPECT_NE(image.find("<svg"), std::string::npos);
            EXPECT_NE(image.find("test relay (worker busy time)"), std::string::npos) << "the key names the relay";
        } else {
            EXPECT_EQ(image.substr(0, 4), "\x89PNG");
        }
        EXPECT_EQ(read(dir + "/ramp.dat"), lg::ramp_plot_data(steps));
        EXPECT_NE(read(dir + "/ramp.gp").find("multiplot"), std::string::npos);
    }
    std::string error;
    EXPECT_FALSE(lg::write_ramp_plot(dir + "/no/such/dir/ramp.svg", "x", steps, &error));
    EXPECT_FALSE(error.empty());
    std::filesystem::remove_all(dir);
}

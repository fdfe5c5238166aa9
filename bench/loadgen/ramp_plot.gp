# Loss, p99 latency and relay load against calls, for up to three ramps on one chart
# (rtprelay-loadgen --ramp --plot writes one; bench/compare its relays):
#
#   gnuplot -c ramp_plot.gp OUT.svg|OUT.png TITLE1 DATA1 [TITLE2 DATA2 [TITLE3 DATA3]]
#
# DATA: a line per ramp step, blank-separated: calls, loss %, p99 latency us, relay load in
# % of a core (rtprelay: its busiest worker's busy time; a relay without that figure: its
# process CPU), verdict. NaN = not measured. Lines starting with '#' are comments. Steps in
# which the generator could not keep its schedule (verdict generator_behind) are open
# circles, off the line: their figures are the generator's limit, not the relay's.
if (ARGC < 3) {
    print "usage: gnuplot -c ramp_plot.gp OUT.svg|OUT.png TITLE1 DATA1 [TITLE2 DATA2 [TITLE3 DATA3]]"
    exit status 2
}
out = ARG1
series = (ARGC >= 7) ? 3 : (ARGC >= 5) ? 2 : 1
title(i) = (i == 1) ? ARG2 : (i == 2) ? ARG4 : ARG6
data(i) = (i == 1) ? ARG3 : (i == 2) ? ARG5 : ARG7
relay(y) = (strcol(5) eq "generator_behind") ? NaN : y
generator(y) = (strcol(5) eq "generator_behind") ? y : NaN
behind(i) = (i == series) ? "generator behind (its limit, not the relay's)" : ""

if (strlen(out) > 4 && out[strlen(out) - 3:] eq ".png") {
    set terminal pngcairo size 900,1050 font "sans,10"
} else {
    set terminal svg size 900,1050 font "sans,11" background rgb "white"
}
set output out
set termoption noenhanced  # titles as given: "af_packet" is not a subscript

set multiplot layout 3,1 title "relay under a call ramp (50 packets/s each way per call)"
set logscale x 2
set format x "%.0f"
set grid xtics ytics
set key top left
set style data linespoints
set pointsize 1

# Zero loss cannot sit on a log scale: it is drawn at 1e-4 %, the axis floor.
set ylabel "loss (%; 0 drawn at 1e-4)"
set logscale y 10
set yrange [1e-4:100]
set format y "%g"
plot for [i=1:series] data(i) using 1:(relay($2 > 1e-4 ? $2 : 1e-4)) title title(i) lw 2 lc i, \
     for [i=1:series] data(i) using 1:(generator($2 > 1e-4 ? $2 : 1e-4)) with points pt 6 ps 2 lc i \
         title behind(i)

set ylabel "p99 latency (us)"
set autoscale y
set logscale y 10
plot for [i=1:series] data(i) using 1:(relay($3)) title title(i) lw 2 lc i, \
     for [i=1:series] data(i) using 1:(generator($3)) with points pt 6 ps 2 lc i notitle

set ylabel "relay load (% of a core)"
set xlabel "concurrent calls"
unset logscale y
set yrange [0:*]
plot for [i=1:series] data(i) using 1:(relay($4)) title title(i) lw 2 lc i, \
     for [i=1:series] data(i) using 1:(generator($4)) with points pt 6 ps 2 lc i notitle

unset multiplot

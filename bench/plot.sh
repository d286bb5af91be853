#!/usr/bin/env bash
# Draws the strata / raw ratio per workload from a strata_bench CSV as a PNG (gnuplot).
#   bash bench/run.sh --csv /tmp/bench.csv
#   bash bench/plot.sh /tmp/bench.csv docs/performance.png
# gnuplot is not a build or test dependency: install it yourself (apt-get install gnuplot-nox).
set -euo pipefail
csv=${1:?usage: plot.sh results.csv [out.png]}
out=${2:-docs/performance.png}
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot is not installed" >&2; exit 1; }

data=$(mktemp)
trap 'rm -f "$data"' EXIT
# workload id and ratio (W2's memory row included); the header and the labels are skipped.
awk -F, 'NR > 1 { print $1, $NF }' "$csv" > "$data"

gnuplot <<GNUPLOT
set terminal pngcairo size 900,480 font ",11"
set output "$out"
set title "strata / raw SQLite C API, per workload (1 = as fast as hand-written code)"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.7
set ylabel "ratio strata / raw (log scale)"
set logscale y 2
set yrange [0.5:*]
set grid ytics
set key off
target = 1.3
set arrow from graph 0, first target to graph 1, first target nohead dt 2 lc rgb "red"
set label "target 1.3" at graph 0.86, first target*1.12 tc rgb "red"
plot "$data" using 2:xtic(1) lc rgb "#4472c4", \
     "$data" using 0:2:(sprintf("%.2f", \$2)) with labels offset 0,0.8
GNUPLOT
echo "plot.sh: wrote $out"

#!/usr/bin/env bash
# Draws the strata / raw ratio per workload from strata_bench CSVs as a PNG (gnuplot): one bar
# per workload, or two (SQLite, PostgreSQL) when given two CSVs.
#   bash bench/run.sh --csv /tmp/sqlite.csv
#   bash bench/run.sh --url 'postgresql:///strata_bench?host=...' --csv /tmp/pg.csv
#   bash bench/plot.sh /tmp/sqlite.csv /tmp/pg.csv          # writes docs/performance.png
#   bash bench/plot.sh -o out.png /tmp/sqlite.csv
# gnuplot is not a build or test dependency: install it yourself (apt-get install gnuplot-nox).
set -euo pipefail
out=docs/performance.png
if [[ ${1:-} == -o ]]; then out=${2:?usage: plot.sh [-o out.png] sqlite.csv [postgresql.csv]}; shift 2; fi
first=${1:?usage: plot.sh [-o out.png] sqlite.csv [postgresql.csv]}
second=${2:-}
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot is not installed" >&2; exit 1; }

data=$(mktemp)
trap 'rm -f "$data"' EXIT
# workload id and ratio (W2's memory row included) from each file, joined on the id; the
# header and the labels are skipped. "-" where the second file lacks a workload.
if [[ -n $second ]]; then
  awk -F, 'NR == FNR { if (FNR > 1) r[$1] = $NF; next }
           FNR > 1 { print $1, $NF, ($1 in r ? r[$1] : "-") }' "$second" "$first" > "$data"
  plot='plot "'$data'" using 2:xtic(1) title "SQLite (raw: sqlite3 C API)" lc rgb "#4472c4", \
             "'$data'" using 3 title "PostgreSQL (raw: libpq, COPY, unnest)" lc rgb "#ed7d31"'
  title="strata / raw C API per workload (1 = as fast as hand-written code)"
else
  awk -F, 'NR > 1 { print $1, $NF }' "$first" > "$data"
  plot='plot "'$data'" using 2:xtic(1) notitle lc rgb "#4472c4", \
             "'$data'" using 0:2:(sprintf("%.2f", $2)) with labels offset 0,0.8 notitle'
  title="strata / raw C API per workload (1 = as fast as hand-written code)"
fi

gnuplot <<GNUPLOT
set terminal pngcairo size 960,480 font ",11"
set output "$out"
set title "$title"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel "ratio strata / raw (log scale)"
set logscale y 2
set yrange [0.25:*]
set offsets 0, 0, graph 0.35, 0  # headroom for the key above the tallest bar
set grid ytics
set key top left
set datafile missing "-"
# The targets (docs/performance.md): 1.3, and 1.5 for W2's memory and PostgreSQL's W1, W4, W6a.
set arrow from graph 0, first 1.3 to graph 1, first 1.3 nohead dt 2 lc rgb "red"
set arrow from graph 0, first 1.5 to graph 1, first 1.5 nohead dt 3 lc rgb "#a00000"
set label "- - -  target 1.3" at graph 0.98, graph 0.93 right tc rgb "red"
set label "· · ·  target 1.5: W2mem; PostgreSQL W1, W4, W6a" at graph 0.98, graph 0.86 right \
    tc rgb "#a00000"
$plot
GNUPLOT
echo "plot.sh: wrote $out"

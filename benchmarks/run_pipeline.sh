#!/bin/sh
# Runs bench_pipeline: throughput (graph vs serial loop, in-flight caps, realistic hardware timing)
# with repetitions, peak RSS (one process per point), the stop-latency series and the band-size
# trade-off (table + PNG), then writes a Markdown summary with the machine and its load.
#   benchmarks/run_pipeline.sh [BUILD_DIR]   (default build/pbench; build target bench_pipeline)
# Environment: WS_REPS (throughput repetitions, default 5), WS_PAIRS (paired serial/graph runs per
# case, default 15), WS_STOPS (stops per series, default
# 200), WS_BAND_STOPS (aborts per band size, default 30), WS_LONG_SITES (default 5000).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/pbench}
bin=$build/benchmarks/pipeline/bench_pipeline
out=$root/benchmarks/results
reps=${WS_REPS:-5}
pairs=${WS_PAIRS:-15}
stops=${WS_STOPS:-200}
band_stops=${WS_BAND_STOPS:-30}
long_sites=${WS_LONG_SITES:-5000}
mkdir -p "$out"
[ -x "$bin" ] || { echo "missing $bin: cmake --build $build --target bench_pipeline" >&2; exit 2; }

machine=$out/pipeline_machine.json
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
printf '{"date": "%s", "nproc": %s, "cpu": "%s", "load_before": "%s"' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$cpu" "$(uptime | sed 's/.*load average: //')" > "$machine"

echo "== throughput (4096^2, $reps repetitions)" >&2
# Interleaved: the repetitions of all cases run in a shuffled order, so a slow spell of the shared
# machine does not land on one case only.
"$bin" --benchmark_repetitions="$reps" --benchmark_enable_random_interleaving=true \
  --benchmark_display_aggregates_only=true --benchmark_filter='^(serial|graph|realistic)/' \
  --benchmark_out="$out/pipeline_throughput.json" --benchmark_out_format=json

echo "== paired serial/graph runs (4096^2, $pairs pairs per case)" >&2
"$bin" --benchmark_repetitions="$pairs" --benchmark_enable_random_interleaving=true \
  --benchmark_display_aggregates_only=true --benchmark_filter='^paired/' \
  --benchmark_out="$out/pipeline_paired.json" --benchmark_out_format=json

echo "== peak RSS vs cap (100 sites of 4096^2), one process each" >&2
: > "$out/pipeline_rss.jsonl"
for cap in 1 2 4 8 16; do
  "$bin" --ws-rss 100 "$cap" 4096 >> "$out/pipeline_rss.jsonl"
done
echo "== peak RSS, 100 vs $long_sites sites of 1024^2 (4096^2 x $long_sites is too slow here)" >&2
for sites in 100 "$long_sites"; do
  "$bin" --ws-rss "$sites" 4 1024 >> "$out/pipeline_rss.jsonl"
done

echo "== stop latency ($stops per series, 4096^2, cap 4)" >&2
"$bin" --ws-stops "$stops" 4096 4 > "$out/pipeline_stops.json"

echo "== band size trade-off (4096^2, $band_stops aborts per band)" >&2
"$bin" --ws-bands 4096 "$band_stops" "$out/pipeline_bands.png" > "$out/pipeline_bands.json"

printf ', "load_after": "%s"}\n' "$(uptime | sed 's/.*load average: //')" >> "$machine"
python3 "$root/benchmarks/pipeline/summarize.py" "$out" > "$out/pipeline.md"
echo "wrote $out/pipeline.md and $out/pipeline_bands.png"

#!/bin/sh
# Runs bench_kernels with repetitions and turns the JSON into a Markdown table of median ratios.
#   benchmarks/run.sh [BUILD_DIR]   (default build/kbench; build target bench_kernels first)
# 2048^2 runs 5 repetitions, 8192^2 3 (to keep the whole run under ~10 minutes on 2 cores).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/kbench}
bin=$build/benchmarks/kernels/bench_kernels
out=$root/benchmarks/results
mkdir -p "$out"
[ -x "$bin" ] || { echo "missing $bin: cmake --build $build --target bench_kernels" >&2; exit 2; }
common="--benchmark_report_aggregates_only=true --benchmark_min_time=0.2 --benchmark_format=console"
"$bin" $common --benchmark_repetitions=5 --benchmark_filter='side:2048/' \
  --benchmark_out="$out/kernels_2048.json" --benchmark_out_format=json
"$bin" $common --benchmark_repetitions=3 --benchmark_filter='side:8192/' \
  --benchmark_out="$out/kernels_8192.json" --benchmark_out_format=json
python3 "$root/benchmarks/kernels/ratios.py" "$out/kernels_2048.json" "$out/kernels_8192.json" \
  > "$out/kernels.md"
echo "wrote $out/kernels.md"

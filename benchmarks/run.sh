#!/bin/sh
# Runs bench_kernels with repetitions and turns the JSON into a Markdown table of median ratios.
#   benchmarks/run.sh [BUILD_DIR]   (default build/kbench; build target bench_kernels first)
# 2048^2 runs 5 repetitions, 8192^2 3 (to keep the whole run under ~10 minutes on 2 cores), with
# the repetitions of all cases interleaved in a shuffled order so that a slow spell of the shared
# machine does not land on one case. The stores/* cases (regular vs streaming stores across the
# cache size) are not part of it: run them by name, e.g. --benchmark_filter='^stores/'.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/kbench}
bin=$build/benchmarks/kernels/bench_kernels
out=$root/benchmarks/results
mkdir -p "$out"
[ -x "$bin" ] || { echo "missing $bin: cmake --build $build --target bench_kernels" >&2; exit 2; }
common="--benchmark_report_aggregates_only=true --benchmark_min_time=0.2 --benchmark_format=console
  --benchmark_enable_random_interleaving=true"
"$bin" $common --benchmark_repetitions=5 --benchmark_filter='^[a-z_0-9]+/[a-z_0-9]+/side:2048/' \
  --benchmark_out="$out/kernels_2048.json" --benchmark_out_format=json
"$bin" $common --benchmark_repetitions=3 --benchmark_filter='^[a-z_0-9]+/[a-z_0-9]+/side:8192/' \
  --benchmark_out="$out/kernels_8192.json" --benchmark_out_format=json
python3 "$root/benchmarks/kernels/ratios.py" "$out/kernels_2048.json" "$out/kernels_8192.json" \
  > "$out/kernels.md"
echo "wrote $out/kernels.md"

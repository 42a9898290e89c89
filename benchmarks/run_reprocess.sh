#!/bin/sh
# Runs bench_reprocess: offline reprocessing end to end against decoding the same files alone, on
# the same threads, with interleaved repetitions, and prints both rates (medians) and their ratio.
#   benchmarks/run_reprocess.sh [BUILD_DIR]   (default build/release; target bench_reprocess)
# Environment: WS_BENCH_PAIRS (a DeepPCB-layout folder; default ../shared/data/deeppcb/pairs),
# WS_REPS (repetitions, default 5).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
bin=$build/benchmarks/reprocess/bench_reprocess
out=$root/benchmarks/results
reps=${WS_REPS:-5}
mkdir -p "$out"
[ -x "$bin" ] || { echo "missing $bin: cmake --build $build --target bench_reprocess" >&2; exit 2; }
"$bin" --benchmark_repetitions="$reps" --benchmark_enable_random_interleaving=true \
  --benchmark_min_time=1 --benchmark_report_aggregates_only=false \
  --benchmark_out="$out/reprocess.json" --benchmark_out_format=json > /dev/null
python3 - "$out/reprocess.json" <<'PY'
import json, statistics, sys
runs = [b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("run_type") == "iteration"]
rate = {}
for b in runs:
    rate.setdefault(b["run_name"], []).append(b["items_per_second"])
med = {k: statistics.median(v) for k, v in rate.items()}
for k in sorted(med):
    print(f"{k}: median {med[k]:.1f} pairs/s over {len(rate[k])} repetitions "
          f"(min {min(rate[k]):.1f}, max {max(rate[k]):.1f})")
e2e = med["reprocess/end_to_end/real_time"]
dec = med["reprocess/decode_only/real_time"]
print(f"ratio end_to_end / decode_only: {e2e / dec:.3f}")
PY

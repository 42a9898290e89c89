#!/bin/sh
# Runs bench_scale (benchmarks/scale): a run's cost at 1e3, 1e5 and 1e6 explicit sites, each size
# in its own process, the sizes interleaved WS_REPS times (default 3); prints the medians per size
# and their ratios to the 1e3-site run, and keeps every line in benchmarks/results/scale.jsonl.
#   benchmarks/run_scale.sh [BUILD_DIR]   (default build/release; target bench_scale)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
bin=$build/benchmarks/scale/bench_scale
out=$root/benchmarks/results
reps=${WS_REPS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -x "$bin" ] || { echo "missing $bin: cmake --build $build --target bench_scale" >&2; exit 2; }
mkdir -p "$out"
: > "$out/scale.jsonl"
for rep in $(seq "$reps"); do
  for n in 1000 100000 1000000; do
    "$bin" "$n" "$work" >> "$out/scale.jsonl"
    rm -rf "$work"/scale_"$n".*
  done
done
python3 - "$out/scale.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
keys = ["parse_s", "parse_peak_rss_mib", "start_s", "sites_per_s", "peak_rss_mib", "store_mib",
        "open_write_s", "open_read_s"]
med = {}
for n in sorted({r["sites"] for r in rows}):
    got = [r for r in rows if r["sites"] == n]
    med[n] = {k: statistics.median(r[k] for r in got) for k in keys}
    print(f"{n:>8} sites ({len(got)} runs, medians): " +
          ", ".join(f"{k} {med[n][k]:.3f}" for k in keys))
base = med[min(med)]
for n in sorted(med):
    print(f"{n:>8} / {min(med)}: sites/s x{med[n]['sites_per_s'] / base['sites_per_s']:.3f}, "
          f"peak RSS x{med[n]['peak_rss_mib'] / base['peak_rss_mib']:.3f} "
          f"(+{med[n]['peak_rss_mib'] - base['peak_rss_mib']:.0f} MiB)")
PY

#!/usr/bin/env bash
# Builds the libFuzzer targets with the `fuzz` preset and runs each for SECONDS (default 30) on a
# copy of its seed corpus in tests/fuzz/corpus/<target>/. Exits non-zero if any target finds a
# crash, a leak, a timeout or runs out of memory; the reproducer is left in the artifact folder
# printed at the end.
#   tests/fuzz/run.sh [SECONDS]
# WS_FUZZ_SEED=N makes the runs repeatable (CI sets it); unset, libFuzzer picks a random seed.
set -euo pipefail
seconds="${1:-30}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS]  (a whole number of seconds per target, default 30)" >&2
  exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
cmake --preset fuzz > /dev/null
cmake --build --preset fuzz

# fuzz_manifest writes every input to a file under $TMPDIR: on tmpfs it runs ~7x faster.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi

bin="$root/build/fuzz/tests/fuzz"
work="$root/build/fuzz/runs/$(date +%Y%m%d-%H%M%S)"
status=0
for target in recipe graph_spec manifest fault_spec; do
  corpus="$work/$target/corpus"
  artifacts="$work/$target/artifacts"
  mkdir -p "$corpus" "$artifacts"
  cp "$root/tests/fuzz/corpus/$target/"* "$corpus/"
  echo "== fuzz_$target: ${seconds}s"
  # libFuzzer exits non-zero on a crash, leak (ASan's LeakSanitizer), -timeout or -rss_limit_mb.
  if ! "$bin/fuzz_$target" "$corpus" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
      -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" \
      ${WS_FUZZ_SEED:+-seed="$WS_FUZZ_SEED"} \
      > "$work/$target/log.txt" 2>&1; then
    echo "FAILED: fuzz_$target (log: $work/$target/log.txt, reproducer: $artifacts/)" >&2
    tail -n 40 "$work/$target/log.txt" >&2
    status=1
    continue
  fi
  grep -E '^#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec' \
    "$work/$target/log.txt" || true
done
if [ "$status" = 0 ]; then echo "fuzz: all targets clean (${seconds}s each); logs in $work"; fi
exit "$status"

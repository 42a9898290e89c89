#!/usr/bin/env python3
"""Turns bench_kernels JSON (aggregates) into a Markdown table of median ratios. Stdlib only.

Usage: ratios.py RESULT.json [RESULT.json ...] > kernels.md
"""
import json
import re
import sys

NAME = re.compile(r"^(?P<kernel>[^/]+)/(?P<variant>[^/]+)/side:(?P<side>\d+)/threads:(?P<threads>\d+)")


def load(paths):
    medians = {}  # (kernel, variant, side, threads) -> benchmark entry
    context = None
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        context = context or doc.get("context", {})
        for b in doc["benchmarks"]:
            if b.get("aggregate_name") != "median":
                continue
            m = NAME.match(b["run_name"])
            if m:
                key = (m["kernel"], m["variant"], int(m["side"]), int(m["threads"]))
                medians[key] = b
    return medians, context


def ms(b):
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
    return b["real_time"] * scale


def main():
    medians, context = load(sys.argv[1:])
    configs = sorted({(k[2], k[3]) for k in medians})
    kernels = ["flat_field", "median3", "absdiff", "threshold", "fused_blobs", "align"]
    out = []
    out.append("Medians of the repetitions; ratios > 1 favour ours. "
               f"Host: {context.get('host_name', '?')}, {context.get('num_cpus', '?')} CPUs, "
               f"run {context.get('date', '?')}.")
    out.append("")
    out.append("| kernel | side | threads | ours ms (cp) | ours ms (no cp) | cp overhead | "
               "OpenCV ms | OpenCV / ours | ours Mpx/s |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kernel in kernels:
        for side, threads in configs:
            cp = medians.get((kernel, "cp", side, threads))
            nocp = medians.get((kernel, "nocp", side, threads))
            cv = medians.get((kernel, "opencv", side, threads))
            if not cp:
                continue
            row = [kernel, str(side), str(threads), f"{ms(cp):.3f}"]
            row.append(f"{ms(nocp):.3f}" if nocp else "-")
            row.append(f"{(ms(cp) / ms(nocp) - 1) * 100:+.1f}%" if nocp else "-")
            row.append(f"{ms(cv):.3f}" if cv else "-")
            row.append(f"{ms(cv) / ms(cp):.2f}x" if cv else "-")
            row.append(f"{cp.get('items_per_second', 0) / 1e6:.0f}")
            out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.append("fused_blobs/opencv is the whole-image chain absdiff + threshold + "
               "connectedComponentsWithStats (8-connectivity) on the same overlap.")
    out.append("")
    out.append("| detect (align + noise + blobs) | side | threads | fused ms | separate ms | "
               "separate / fused |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for side, threads in configs:
        f = medians.get(("detect", "fused", side, threads))
        s = medians.get(("detect", "separate", side, threads))
        if f and s:
            out.append(f"| detect | {side} | {threads} | {ms(f):.2f} | {ms(s):.2f} | "
                       f"{ms(s) / ms(f):.2f}x |")
    out.append("")
    out.append("| stop latency | side | threads | p50 ms | p99 ms | kernel ms | "
               "OpenCV call ms | missed |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for kernel in ["median3", "fused_blobs"]:
        for side, threads in configs:
            b = medians.get(("stop", kernel, side, threads))
            if b:
                out.append(f"| {kernel} | {side} | {threads} | {b['p50_ms']:.3f} | "
                           f"{b['p99_ms']:.3f} | {b['kernel_ms']:.2f} | {b['opencv_ms']:.2f} | "
                           f"{b['missed']:.0f} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()

"""The benchmark table, the targets met or not, and the committed results pages."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .cases import ABSOLUTE, CASES, QUICK, TARGETS


# ---------------------------------------------------------------------- the table
def format_table(rows) -> str:
    dynamics = [r for r in rows if r["kind"] == "dynamics"]
    env = [r for r in rows if r["kind"] == "env"]
    lines = []
    if dynamics:
        lines += [
            "| best-response dynamics | users | iterations | fast (s) | naive (s) | naive scope "
            "| speed-up | peak memory (MB) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in dynamics:
            lines.append(
                f"| {r['case']} | {r['population']} | {r['iterations']}"
                f"{'' if r['converged'] else ' (not converged)'} | {r['fast_s']:.3f} "
                f"| {r['naive_s']:.1f} | {r['naive_scope']} | {r['speed-up']:,.0f}x "
                f"| {r['peak_mb']:,.0f} |"
            )
    if env:
        lines += [
            "",
            "| env step throughput | steps/s | naive steps/s | speed-up | peak memory (MB) |",
            "|---|---|---|---|---|",
        ]
        for r in env:
            lines.append(
                f"| {r['case']} | {r['steps_per_s']:,.0f} | {r['naive_steps_per_s']:,.1f} "
                f"| {r['speed-up']:,.0f}x | {r['peak_mb']:,.0f} |"
            )
    batched = [r for r in rows if r["kind"] in ("vector", "training")]
    if batched:
        lines += [
            "",
            "| batched throughput | producer-steps/s | baseline producer-steps/s (same run) "
            "| ratio | cache off (same run) | simultaneous (same run) | peak memory (MB) |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in batched:
            base = "single env" if r["kind"] == "vector" else "SuperSuit + single env"
            single = (
                f"{r['single_producer_steps_per_s']:,.0f} ({base}) | {r['ratio']:,.1f}x"
                if "single_producer_steps_per_s" in r
                else "not run (a single-env step takes seconds here) | —"
            )
            off = (
                f"{r['cache_off_producer_steps_per_s']:,.0f}: {r['ratio_to_cache_off']:,.1f}x "
                f"(table filled in {r['fill_s']:.0f} s)"
                if "cache_off_producer_steps_per_s" in r
                else "—"
            )
            if "cache_off_producer_steps_per_s" in r and not r.get("fill_s"):
                off = off.replace(" (table filled in 0 s)", " (warm lazy cache)")
            simultaneous = (
                f"{r['simultaneous_producer_steps_per_s']:,.0f}: {r['ratio_to_simultaneous']:.2f}x"
                if "simultaneous_producer_steps_per_s" in r
                else "—"
            )
            lines.append(
                f"| {r['case']} | {r['producer_steps_per_s']:,.0f} | {single} | {off} "
                f"| {simultaneous} | {r['peak_mb']:,.0f} |"
            )
    jax_rows = [r for r in rows if r["kind"] == "jax"]
    if jax_rows:
        lines += [
            "",
            "| JAX env (jit + vmap, revision one) | producer-steps/s | NumPy vector env, same "
            "game and cache (same run) | ratio | compile (s) | peak memory (MB) |",
            "|---|---|---|---|---|---|",
        ]
        for r in jax_rows:
            if "skipped" in r:
                lines.append(f"| {r['case']} | skipped: {r['skipped']} | | | | |")
                continue
            numpy = (
                f"{r['vector_producer_steps_per_s']:,.0f} (cache {r['vector_cache']}) | "
                f"{r['ratio_to_vector']:.1f}x"
                if "vector_producer_steps_per_s" in r
                else "— | —"
            )
            lines.append(
                f"| {r['case']} | {r['producer_steps_per_s']:,.0f} | {numpy} | "
                f"{r['compile_s']:.1f} | {r['peak_mb']:,.0f} |"
            )
    trainers = [r for r in rows if r["kind"] == "jaxtrain"]
    if trainers:
        lines += [
            "",
            "| PPO training, same settings and samples | seeds | producer-steps per CPU s "
            "(JAX) | SB3 on the vector env (same run) | SuperSuit (same run) | CPU ratio to SB3 "
            "| wall s (JAX / SB3) | compile (s) | peak memory (MB) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in trainers:
            lines.append(
                f"| {r['case']} | {r['seeds']} | {r['producer_steps_per_cpu_s']:,.0f} | "
                f"{r['sb3_producer_steps_per_cpu_s']:,.0f} | "
                f"{r['supersuit_producer_steps_per_cpu_s']:,.0f} | {r['cpu_ratio']:.1f}x | "
                f"{r['wall_s']:.1f} / {r['sb3_wall_s']:.1f} | {r['compile_s']:.1f} | "
                f"{r['peak_mb']:,.0f} |"
            )
    studies = [r for r in rows if r["kind"] in ("analysis", "nmf")]
    if studies:
        lines += [
            "",
            "| analysis and data | seconds | what it found | per-vector enumeration "
            "(extrapolated) | peak memory (MB) |",
            "|---|---|---|---|---|",
        ]
        for r in studies:
            naive = f"{r['naive_s']:,.0f} s ({r['speed-up']:,.0f}x)" if "naive_s" in r else "—"
            lines.append(
                f"| {r['case']} | {r['seconds']:,.1f} | {r['result']} | {naive} "
                f"| {r['peak_mb']:,.0f} |"
            )
    blas = [r for r in rows if r["kind"] == "blas"]
    if blas:
        lines += [
            "",
            "| BLAS setting (single env, simplex, regrets off) | steps/s |",
            "|---|---|",
        ]
        for r in blas:
            lines.append(f"| {r['case']} | {r['steps_per_s']:,.0f} |")
        rates = [r["steps_per_s"] for r in blas]
        lines.append(f"| largest / smallest | {max(rates) / min(rates):.1f}x |")
    return "\n".join(lines)


def target_lines(rows) -> list[str]:
    """One line per target the rows measure: the number, the bound, met or not."""
    lines = []
    for name, (metric, bound) in [*TARGETS.items(), *ABSOLUTE.items()]:
        row = next((r for r in rows if r["case"] == name), None)
        if row is not None and metric in row:
            at_least = metric not in ("fast_s", "seconds")
            ok = row[metric] >= bound if at_least else row[metric] <= bound
            lines.append(
                f"target {name}: {metric} {row[metric]:,.2f} (target "
                f"{'>=' if at_least else '<='} {bound:,g}) "
                f"{'met' if ok else 'NOT met'}"
            )
    return lines


# ---------------------------------------------------------------------- committed results
HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "RESULTS.md"
README = HERE.parent / "README.md"
README_BEGIN, README_END = "<!-- benchmarks: begin -->", "<!-- benchmarks: end -->"


def _machine() -> str:
    import platform

    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}"
    )


def render_results(rows) -> str:
    """``benchmarks/RESULTS.md`` from the committed rows (every number comes from them)."""
    machines = sorted({r.get("machine", "unrecorded") for r in rows})
    dates = sorted(r["measured"] for r in rows if "measured" in r)
    span = (
        "on unrecorded dates"
        if not dates
        else f"on {dates[0]}"
        if dates[0] == dates[-1]
        else f"from {dates[0]} to {dates[-1]}"
    )
    lines = [
        "# Benchmark results",
        "",
        "Generated by `python -m benchmarks --write` from `benchmarks/results.json`; do not edit.",
        f"Measured {span} on {'; '.join(machines)}.",
        "Every ratio compares two implementations measured in the same process on the same",
        "input; what each baseline is, is in `python -m benchmarks --help`.",
        "",
        format_table(rows),
        "",
        "## Against the targets in the issues",
        "",
        *[f"* {line.removeprefix('target ')}" for line in target_lines(rows)],
        "",
    ]
    return "\n".join(lines)


def readme_block(rows) -> str:
    """The README's benchmark block: the tables and the targets, from the same rows."""
    return "\n".join(
        [
            format_table(rows),
            "",
            *[f"* {line.removeprefix('target ')}" for line in target_lines(rows)],
        ]
    )


def write_results(rows, json_path=RESULTS_JSON, markdown=RESULTS_MD, readme=README) -> None:
    """Merge ``rows`` (by case name, keeping the order of CASES) into the committed results and
    regenerate the Markdown page and the README block from them."""
    from recsys_eq_env._io import atomic_write_text

    stamp = time.strftime("%Y-%m-%d")
    machine = _machine()
    old = json.loads(Path(json_path).read_text()) if Path(json_path).exists() else []
    merged = {r["case"]: r for r in old}
    for r in rows:
        merged[r["case"]] = {**r, "measured": stamp, "machine": machine}
    order = {c.name: i for i, c in enumerate(CASES + QUICK)}
    kept = sorted(merged.values(), key=lambda r: order.get(r["case"], len(order)))
    atomic_write_text(Path(json_path), json.dumps(kept, indent=1) + "\n")
    atomic_write_text(Path(markdown), render_results(kept))
    readme = Path(readme)
    if readme.exists():
        text = readme.read_text()
        if README_BEGIN in text and README_END in text:
            head, rest = text.split(README_BEGIN, 1)
            _, tail = rest.split(README_END, 1)
            new = f"{head}{README_BEGIN}\n{readme_block(kept)}\n{README_END}{tail}"
            if new != text:
                atomic_write_text(readme, new)

#!/usr/bin/env python3
"""cpu_table.py - turn the raw per-repetition results written by
run_cpu_bench.sh into a markdown table (best-of-N time per engine, ratio to
native, geometric mean of ratios) and check every engine's checksum line
against native's.

Input: a TSV file with the header
    program  engine  rep  status  ms  checksum
where status is "ok" or a short failure reason, ms the elapsed milliseconds
(empty when unknown) and checksum the program's "<name> checksum=<n>" line.

Exit status: 0 if all results are consistent, 1 if any checksum was WRONG or
a native run failed (n/a entries for non-native engines are reported but do
not fail the run), 2 on usage / input errors. Standard library only.
"""
import argparse
import csv
import math
import sys
from collections import OrderedDict

# Column order of the table; "native" is the reference.
ENGINE_COLUMNS = [
    ("native", "native ms"),
    ("baseline", "baseline ms (ratio)"),
    ("optimized", "optimized ms (ratio)"),
    ("node", "node ms (ratio)"),
]


class Cell:
    """Outcome for one (program, engine) pair."""

    def __init__(self, text, best_ms=None, ratio=None, wrong=False, failed=False):
        self.text = text
        self.best_ms = best_ms
        self.ratio = ratio
        self.wrong = wrong
        self.failed = failed


def read_results(path):
    """Returns {program: {engine: [row, ...]}} preserving first-seen order."""
    results = OrderedDict()
    with open(path, newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        required = {"program", "engine", "rep", "status", "ms", "checksum"}
        if not reader.fieldnames or not required <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected TSV columns {sorted(required)}")
        for row in reader:
            results.setdefault(row["program"], OrderedDict()).setdefault(
                row["engine"], []).append(row)
    return results


def parse_ms(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


def evaluate(rows, reference_checksum):
    """Best-of-N time for one engine; n/a on any failure, WRONG on mismatch."""
    times = []
    for row in rows:
        if row["status"] != "ok":
            return Cell("n/a", failed=True), f"rep {row['rep']}: {row['status']}"
        if reference_checksum is not None and row["checksum"] != reference_checksum:
            got = row["checksum"] or "<no checksum line>"
            return Cell("WRONG", wrong=True), f"rep {row['rep']}: got '{got}', want '{reference_checksum}'"
        ms = parse_ms(row["ms"])
        if ms is None:
            return Cell("n/a", failed=True), f"rep {row['rep']}: no usable elapsed time ('{row['ms']}')"
        times.append(ms)
    if not times:
        return Cell("n/a", failed=True), "no repetitions recorded"
    return Cell(f"{min(times):.1f}", best_ms=min(times)), None


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="TSV written by run_cpu_bench.sh")
    ap.add_argument("--engines", default="native,node",
                    help="comma-separated engines that were requested "
                         "(others are shown as '-')")
    ap.add_argument("--reps", type=int, default=None, help="for the footer only")
    args = ap.parse_args()

    requested = {e.strip() for e in args.engines.split(",") if e.strip()}
    try:
        results = read_results(args.results)
    except (OSError, ValueError) as e:
        print(f"cpu_table: {e}", file=sys.stderr)
        return 2
    if not results:
        print("cpu_table: no results", file=sys.stderr)
        return 2

    problems = []          # human-readable notes printed under the table
    bad = False            # WRONG checksum or native failure -> exit 1
    ratios = {engine: [] for engine, _ in ENGINE_COLUMNS if engine != "native"}
    lines = []

    header = ["benchmark"] + [title for _, title in ENGINE_COLUMNS]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * len(ENGINE_COLUMNS)) + "|")

    for program, by_engine in results.items():
        # Reference: native checksum line; all native reps must agree with it.
        native_rows = by_engine.get("native", [])
        reference = native_rows[0]["checksum"] if native_rows else None
        if not reference:
            reference = None
        native_cell, why = evaluate(native_rows, reference)
        if native_cell.best_ms is None or reference is None:
            bad = True
            problems.append(f"{program}/native: {why or 'no checksum line'}")
            native_cell = Cell("n/a", failed=True)
        cells = [program, native_cell.text]

        for engine, _ in ENGINE_COLUMNS[1:]:
            if engine not in requested:
                cells.append("-")
                continue
            cell, why = evaluate(by_engine.get(engine, []), reference)
            if why:
                problems.append(f"{program}/{engine}: {why}")
            if cell.wrong:
                bad = True
            if cell.best_ms is not None and native_cell.best_ms:
                cell.ratio = cell.best_ms / native_cell.best_ms
                ratios[engine].append(cell.ratio)
                cell.text = f"{cell.best_ms:.1f} ({cell.ratio:.2f}x)"
            elif cell.best_ms is not None:
                cell.text = f"{cell.best_ms:.1f} (n/a)"
            cells.append(cell.text)
        lines.append("| " + " | ".join(cells) + " |")

    # Geometric mean of the ratios, over the benchmarks that have one.
    total = len(results)
    geo = ["**geomean**", "1.00x"]
    for engine, _ in ENGINE_COLUMNS[1:]:
        if engine not in requested:
            geo.append("-")
        elif not ratios[engine]:
            geo.append("n/a")
        else:
            text = f"{geomean(ratios[engine]):.2f}x"
            if len(ratios[engine]) < total:
                text += f" ({len(ratios[engine])}/{total} benchmarks)"
            geo.append(f"**{text}**")
    lines.append("| " + " | ".join(geo) + " |")

    print("\n".join(lines))
    reps = f"best of {args.reps} reps; " if args.reps else "best of all reps; "
    print(f"\n{reps}ratio = engine ms / native ms (lower is better). "
          "native = whole process wall time; engines = time reported as elapsed_ms "
          "(program execution only).")
    if problems:
        print("\nProblems:")
        for p in problems:
            print(f"- {p}")
    if bad:
        print("\nFAILED: checksum mismatch (WRONG) or native failure", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

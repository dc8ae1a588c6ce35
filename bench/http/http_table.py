#!/usr/bin/env python3
"""Turns run_http_bench.sh's results.tsv (+ the raw wrk outputs it names) into markdown tables.

Table 1: one row per server x component: req/s, p50/p99 latency and errors of the run with the
median req/s, the min-max req/s over the runs, RSS idle / peak under load / high-water mark.
Table 2: per component, Cumulus's req/s against jco serve (its default one-instance mode, and
with an instance per request like Cumulus) and against the native server, with the goals
(>= 10x jco; >= 50% of native for the C and Rust components).
Python 3, stdlib only.
"""
import argparse
import csv
import re
import sys

GOAL_JCO = 10.0
GOAL_NATIVE = 0.5
NATIVE_GOAL_COMPONENTS = {"rust", "c"}
COMPONENT_NAMES = {"rust": "Rust hello (wasmcloud-wash)", "c": "C hello (toolchains/c-http)",
                   "js": "JS hello (StarlingMonkey)", "all": "hello (no wasm)"}


def ms(value, unit):
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}[unit]
    return float(value) * scale


def parse_wrk(path):
    """req/s, p50 ms, p99 ms, requests, errors (socket errors + non-2xx) from `wrk --latency`."""
    text = open(path, encoding="utf-8", errors="replace").read()
    out = {"rps": None, "p50": None, "p99": None, "errors": 0, "requests": None}
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if m:
        out["rps"] = float(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\b", text, re.M)
        if m:
            out[key] = ms(m.group(1), m.group(2))
    if out["p50"] == 0 and out["p99"] == 0:  # every request timed out: no latency recorded
        out["p50"] = out["p99"] = None
    m = re.search(r"^\s+(\d+) requests in", text, re.M)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["errors"] += sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["errors"] += int(m.group(1))
    return out


def fmt_num(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:.2f}" if v < 100 else f"{v:.0f}"


def fmt_range(rng):
    if not rng:
        return ""
    return f"{rng[0]:,.0f}–{rng[1]:,.0f}"


def fmt_mb(kb):
    return "-" if not kb else f"{int(kb) / 1024:.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--settings", default="")
    args = ap.parse_args()

    rows = []
    with open(args.results, encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if r["status"] == "ok" and r["wrk_file"]:
                runs = [parse_wrk(f) for f in r["wrk_file"].split(",")]
                rates = [x["rps"] for x in runs if x["rps"] is not None]
                # The run with the median req/s (the lower middle one for an even count).
                runs.sort(key=lambda x: x["rps"] or 0)
                r.update(runs[(len(runs) - 1) // 2])
                r["range"] = (min(rates), max(rates)) if len(rates) > 1 else None
            else:
                r.update({"rps": None, "p50": None, "p99": None, "errors": None, "range": None})
            rows.append(r)

    print(f"Settings: {args.settings}; loopback, wrk and the server share the machine.\n")
    print("| server | component | mode | req/s | (range) | p50 ms | p99 ms | errors | RSS idle MB | "
          "RSS peak under load MB | VmHWM MB |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    notes = []
    for r in rows:
        status = "" if r["status"] == "ok" else f" ({r['status']})"
        print(f"| {r['server']}{status} | {COMPONENT_NAMES.get(r['component'], r['component'])} | "
              f"{r['mode']} | {fmt_num(r['rps'])} | {fmt_range(r['range'])} | {fmt_ms(r['p50'])} | "
              f"{fmt_ms(r['p99'])} | "
              f"{'-' if r['errors'] is None else r['errors']} | {fmt_mb(r['rss_idle_kb'])} | "
              f"{fmt_mb(r['rss_peak_kb'])} | {fmt_mb(r['hwm_kb'])} |")
        if r.get("note"):
            notes.append(f"{r['server']} {r['component']}: {r['note']}")
    for n in notes:
        print(f"\nNote: {n}")

    def rps(server, comp):
        for r in rows:
            if r["server"] == server and r["component"] == comp:
                return r["rps"]
        return None

    native = rps("native", "all")
    comps = [c for c in ("rust", "c", "js") if any(r["component"] == c for r in rows)]

    def ratio(a, b, goal=None):
        if not (a and b):
            return "-"
        verdict = "" if goal is None else (" met" if a / b >= goal else " NOT met")
        return f"{a / b:.1f}x{verdict}"

    print("\n| component | Cumulus req/s | jco req/s (one instance) | Cumulus/jco (goal >= 10x) | "
          "jco req/s (instance per request) | Cumulus/jco, same semantics | native req/s | "
          "Cumulus/native (goal >= 50% for C, Rust) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for c in comps:
        jc, ji = rps("jco", c), rps("jco+isolate", c)
        for server, label in (("cumulus", ""), ("cumulus+reuse", ", `--reuse-instances`")):
            cu = rps(server, c)
            if cu is None and server != "cumulus":
                continue
            goal = GOAL_JCO if server == "cumulus" else None
            if cu and native:
                verdict = ("" if c not in NATIVE_GOAL_COMPONENTS or server != "cumulus"
                           else (" met" if cu / native >= GOAL_NATIVE else " NOT met"))
                pct = 100 * cu / native
                vs_native = f"{pct:.0f}%{verdict}" if pct >= 10 else f"{pct:.1f}%{verdict}"
            else:
                vs_native = "-"
            # The goal is judged against jco's fastest mode that works for the component.
            vs_jc = ratio(cu, jc, goal) if jc else "-"
            vs_ji = ratio(cu, ji, None if jc else goal)
            print(f"| {COMPONENT_NAMES[c]}{label} | {fmt_num(cu)} | {fmt_num(jc)} | "
                  f"{vs_jc} | {fmt_num(ji)} | {vs_ji} | {fmt_num(native)} | "
                  f"{vs_native} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

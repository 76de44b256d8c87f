#!/usr/bin/env python3
"""The markdown table of bench/cluster.sh (issue 19, item 7), from its results file.

  cluster_report.py --results RESULTS.jsonl --command CMD

Figures: median (min–max) of the runs; ratios: per run, then median (min–max). Exit status 1
when a row has no figure (speed is never judged here).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import fmt, fmt_ratio, load, machine, ratio_values  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--results", required=True)
    p.add_argument("--command", default="bench/cluster.sh")
    a = p.parse_args()
    vals, errs = load(a.results)
    runs = max((max(v) for v in vals.values() if v), default=0)

    def fig(metric, kind):
        if vals.get(metric):
            return fmt(vals[metric].values(), kind, 1)
        return f"not measured ({errs.get(metric, 'no result')})"

    def ratio(a_, b_):
        rs = ratio_values(vals.get(a_, {}), vals.get(b_, {}))
        return fmt_ratio(rs) if rs else "–"

    both = {k: vals.get("c2.both1", {})[k] + vals["c2.both2"][k]
            for k in set(vals.get("c2.both1", {})) & set(vals.get("c2.both2", {}))}
    vals["c2.both"] = both
    rows = [
        ("C1", "appends/s on the PostgreSQL log, 32 appenders (synchronous standby)", fig("c1.tl", "rate"),
         "pgbench, same rows and durability, 32 clients: " + fig("c1.pg", "rate"), ratio("c1.tl", "c1.pg"), "–"),
        ("C2", "introspection/s, 64 connections, nodes 1 and 2 at once (32 each)", fig("c2.both", "rate"),
         "node 1 alone: " + fig("c2.one", "rate") + ", p99 " + fig("c2.one_p99", "ms"), ratio("c2.both", "c2.one"),
         "none: ≤ 1× expected on 2 cores (both nodes, wrk and PostgreSQL share them)"),
        ("C3", "follower lag under write load, p50 / p99", fig("c3.p50", "ms") + " / " + fig("c3.p99", "ms"),
         "writes on node 1 meanwhile: " + fig("c3.writes_per_second", "rate"), "–", "p99 < 50 ms"),
        ("C4", "write outage of a failover (kill -9 of the leader)", fig("c4.outage", "seconds"),
         "Patroni ttl 6 s, loop_wait 1 s, retry_timeout 2 s", "–", "< 10 s"),
    ]
    out = [f"Machine: {machine()}.", "", f"Command: `{a.command}`", "",
           f"Each figure: median (min–max) of {runs} run{'s' if runs != 1 else ''} (C4: of the failovers).", "",
           "| # | what | figure | compared with | ratio | goal |", "|---|---|---|---|---|---|"]
    out += [f"| {' | '.join(r)} |" for r in rows]
    print("\n".join(out))
    return 0 if all(vals.get(m) for m in ("c1.tl", "c1.pg", "c2.one", "c2.both", "c3.p99", "c4.outage")) else 1


if __name__ == "__main__":
    sys.exit(main())

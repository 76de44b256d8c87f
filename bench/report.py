#!/usr/bin/env python3
"""Turns the raw figures of one bench/run.sh run into the markdown table of the README.

  report.py --results RESULTS.jsonl --meta META.json [--tiny] [--out FILE]

RESULTS.jsonl holds one JSON object a line, written by bench/tlbench.py while the steps run:
{"metric": "r1.tl", "run": 3, "value": 61234.5} or {"metric": ..., "run": ..., "error": "why"}.
A figure is the median of its runs with min and max; a ratio is the median (min-max) of the
per-run ratios of two figures measured in the same run k of this script, back to back. A row whose
figures are missing says "not measured (why)".

Exit status: 0 when every row has its figures, 1 otherwise (speed is never judged here).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys


def load(path):
    vals, errs = {}, {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                m = r.get("metric")
                if "error" in r:
                    errs.setdefault(m, r["error"])
                elif r.get("value") is not None:
                    vals.setdefault(m, {})[int(r.get("run", len(vals.get(m, {})) + 1))] = float(r["value"])
    return vals, errs


# ---------------------------------------------------------------- formatting

def scale_rate(v):
    if v >= 1e6:
        return 1e6, "M/s", 2
    if v >= 1e4:
        return 1e3, "k/s", 1
    if v >= 1e3:
        return 1e3, "k/s", 2
    return 1, "/s", 0


def scale_fixed(unit, digits):
    return lambda v: (1, unit, digits)


def scale_seconds(v):
    if v < 1:
        return 1e-3, "ms", 0 if v >= 0.1 else 1
    return 1, "s", 2


def scale_ms(v):
    return 1, "ms", 2 if v < 10 else 1


FORMATS = {
    "rate": scale_rate,
    "seconds": scale_seconds,
    "ms": scale_ms,
    "mib": scale_fixed("MiB", 0),
    "bytes": scale_fixed("B", 0),
    "count": scale_fixed("", 0),
}


def summary(values):
    xs = sorted(values)
    return statistics.median(xs), xs[0], xs[-1], len(xs)


def fmt(values, kind, runs_expected):
    med, lo, hi, n = summary(values)
    div, unit, d = FORMATS[kind](med)
    f = lambda x: f"{x / div:,.{d}f}"
    unit = f" {unit}" if unit else ""
    if n == 1:
        s = f"{f(med)}{unit}"
    else:
        s = f"{f(med)}{unit} ({f(lo)}–{f(hi)})"
    if n < runs_expected:
        s += f" [{n} of {runs_expected} runs]"
    return s


def ratio_values(a, b):
    """Per-run ratios a[k]/b[k] for the runs both have."""
    ks = sorted(set(a) & set(b))
    return [a[k] / b[k] for k in ks if b[k] != 0]


def fmt_ratio(rs):
    med, lo, hi, n = summary(rs)
    def f(x):
        return f"{x:.2f}" if x < 10 else f"{x:.1f}"
    return f"{f(med)}×" if n == 1 else f"{f(med)}× ({f(lo)}–{f(hi)})"


# ---------------------------------------------------------------- the rows

def rows():
    # id, what, tokenledger metric, kind, compared-with text, compared metric, target text,
    # check(tl_median, cmp_median, ratio_median, medians) -> bool, extra(medians) -> text
    return [
        dict(id="1", what="durable appends/s: 32 concurrent appenders, one event each, acknowledged once synced "
                         "(`bench_store` BM_DurableAppend/threads:32)",
             tl="r1.tl", kind="rate",
             cmp_what="the limit: `db_bench fillseq --sync=1 --batch_size=100 --value_size=500`",
             cmp="r1.dbbench", target="≥ 60% of the limit",
             check=lambda t, c, r, m: r >= 0.6),
        dict(id="1", what="durable appends/s (as above)", tl="r1.tl", kind="rate",
             cmp_what="PostgreSQL 15 event table, `pgbench -c 32`, one insert per transaction (default durability)",
             cmp="pg.tps", target="≥ 5× PostgreSQL",
             check=lambda t, c, r, m: r >= 5),
        dict(id="2", what="`POST /api/v1/tokens/{id}/reveal` over HTTP, `wrk -t1 -c64` (durable, audited)",
             tl="r2.tl", kind="rate", extra=lambda m: p99_text(m, "r2.tl_p99_ms"),
             cmp_what="PostgreSQL appends/s (row 1, same run)", cmp="pg.tps", target="≥ 2× PostgreSQL",
             check=lambda t, c, r, m: r >= 2),
        dict(id="3", what="`POST /api/v1/introspect` over HTTP, `wrk -t1 -c64`, ~half the codes invalid",
             tl="r3.tl", kind="rate", extra=lambda m: p99_text(m, "r3.tl_p99_ms"),
             cmp_what="nginx, 1 worker, `return 200` with a JSON of the same size, same wrk script",
             cmp="r3.nginx", cmp_extra=lambda m: p99_text(m, "r3.nginx_p99_ms"),
             target="≥ 0.8× nginx and p99 ≤ 2 ms",
             check=lambda t, c, r, m: r >= 0.8 and m.get("r3.tl_p99_ms", 1e9) <= 2.0),
        dict(id="4", what="projection rebuild from seq 1 (`bench_store --data` BM_Fold), events/s",
             tl="r4.fold", kind="rate",
             cmp_what="raw RocksDB iteration over the same column family (BM_RawScan)",
             cmp="r4.raw", target="≥ 1 M events/s and ≥ 40% of the raw scan",
             check=lambda t, c, r, m: t >= 1e6 and r >= 0.4),
        dict(id="5", what="start-up to `GET /readyz` = 200 with a recent checkpoint",
             tl="r5.ckpt_s", kind="seconds", extra=lambda m: after_text(m),
             cmp_what="the same without a checkpoint (`tokenledger-bench-gen --drop-checkpoint`)",
             cmp="r5.nockpt_s", target="< 1 s + folding the events after the checkpoint",
             check=lambda t, c, r, m: t < 1.0 + m.get("r5.after_ckpt", 0) / max(m.get("r4.fold", 1e6), 1.0)),
        dict(id="5", what="server resident memory (VmRSS) once ready, with a checkpoint",
             tl="r5.ckpt_rss_mib", kind="mib",
             cmp_what="the same, started without a checkpoint", cmp="r5.nockpt_rss_mib",
             target="—", check=None),
        dict(id="6", what="memory of the token projection (`bench_memory --tokens 1000000`): resident growth for the live tokens shown",
             tl="r6.resident_mib", kind="mib", extra=lambda m: bpt_text(m),
             cmp_what="server VmRSS once ready (row 5)", cmp="r5.ckpt_rss_mib", no_ratio=True, cmp_optional=True,
             target="≤ 400 MiB resident",
             check=lambda t, c, r, m: t <= 400),
        dict(id="7", what="audit query by token, 100-event page (`bench_store --data` BM_AuditQueryByToken), p99",
             tl="r7.token_p99", kind="ms", extra=lambda m: p50_text(m, "r7.token_p50"),
             cmp_what="—", cmp=None, target="p99 ≤ 5 ms",
             check=lambda t, c, r, m: t <= 5),
        dict(id="7", what="audit query by actor, 100-event page (BM_AuditQueryByActor), p99",
             tl="r7.actor_p99", kind="ms", extra=lambda m: p50_text(m, "r7.actor_p50"),
             cmp_what="—", cmp=None, target="p99 ≤ 5 ms",
             check=lambda t, c, r, m: t <= 5),
        dict(id="12", what="RFC 9162 inclusion proof of a random event in the whole tree "
                          "(`bench_store --data` BM_InclusionProof, the tree loaded as the server loads it), p99",
             tl="r12.incl_p99", kind="ms", extra=lambda m: p50_text(m, "r12.incl_p50"),
             cmp_what="—", cmp=None, target="p99 ≤ 5 ms",
             check=lambda t, c, r, m: t <= 5),
        dict(id="12", what="RFC 9162 consistency proof from a random size to the whole tree (BM_ConsistencyProof), p99",
             tl="r12.cons_p99", kind="ms", extra=lambda m: p50_text(m, "r12.cons_p50"),
             cmp_what="—", cmp=None, target="p99 ≤ 5 ms",
             check=lambda t, c, r, m: t <= 5),
        dict(id="10", what="`GET /api/v1/tokens?owner=&as_of=` over HTTP, one request at a time, a random token "
                          "record's owner and exact time (the owner's newest snapshot at or before it, then the owner's "
                          "records after it through the audit index), p99",
             tl="r10.tl_p99", kind="ms", extra=lambda m: p50_text(m, "r10.tl_p50"),
             cmp_what="the old cost: the same requests folding the log from seq 1 (a `--read-only` server on the "
                      "directory without its owner keys), median",
             cmp="r10.old", target="p99 ≤ 50 ms",
             check=lambda t, c, r, m: t <= 50),
        dict(id="11", what="`GET /api/v1/audit/verify` over HTTP, one request at a time (the last full check plus "
                          "the records after it), p99",
             tl="r11.tl_p99", kind="ms", extra=lambda m: p50_text(m, "r11.tl_p50"),
             cmp_what="the old cost: `?full=true`, the whole log walked, median",
             cmp="r11.full", target="p99 ≤ 50 ms",
             check=lambda t, c, r, m: t <= 50),
    ]


def p99_text(m, key):
    return f"p99 {m[key]:.2f} ms" if key in m else ""


def p50_text(m, key):
    return f"p50 {m[key]:.2f} ms" if key in m else ""


def after_text(m):
    return f"{int(m['r5.after_ckpt']):,} events after the checkpoint" if "r5.after_ckpt" in m else ""


def bpt_text(m):
    parts = []
    if "r6.tokens" in m:
        parts.append(f"{m['r6.tokens']:,.0f} tokens")
    if "r6.bytes_per_token" in m:
        parts.append(f"{m['r6.bytes_per_token']:,.0f} bytes/token")
    return ", ".join(parts)


# ---------------------------------------------------------------- machine

def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{cores} cores ({cpu}), {mem} memory, Linux {platform.release()}, "
            f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--results", required=True)
    p.add_argument("--meta", required=True)
    p.add_argument("--tiny", action="store_true")
    p.add_argument("--out")
    p.add_argument("--rows", default="1,2,3,4,5,6,7,10,11", help="only these rows (bench/run.sh --rows)")
    a = p.parse_args()
    selected = set(a.rows.split(","))

    with open(a.meta) as f:
        meta = json.load(f)
    runs = int(meta.get("runs", 5))
    vals, errs = load(a.results)
    medians = {k: statistics.median(v.values()) for k, v in vals.items() if v}

    out = []
    out.append(f"Machine: {machine()}.")
    out.append("")
    out.append(f"Command: `{meta.get('command', 'bench/run.sh')}`")
    if meta.get("versions"):
        out.append("")
        out.append("Versions: " + "; ".join(meta["versions"]) + ".")
    if meta.get("dataset"):
        out.append("")
        out.append("Data set: " + meta["dataset"])
    out.append("")
    if a.tiny:
        out.append("**Tiny run (CI smoke test): the figures below are not meaningful and no target is judged.**")
        out.append("")
    out.append(f"Each figure: median (min–max) of {runs} run{'s' if runs != 1 else ''}; each ratio: "
               "tokenledger ÷ compared figure, taken per run (both measured back to back in the same "
               "run), median (min–max).")
    out.append("")
    out.append("| # | what | tokenledger | compared with | ratio | target | met |")
    out.append("|---|---|---|---|---|---|---|")

    missing = []
    for r in rows():
        if r["id"] not in selected:
            continue
        tl = vals.get(r["tl"])
        if tl:
            tl_cell = fmt(tl.values(), r["kind"], runs)
            if r.get("extra"):
                x = r["extra"](medians)
                if x:
                    tl_cell += f"; {x}"
        else:
            why = errs.get(r["tl"], "step not run")
            tl_cell = f"not measured ({why})"
            missing.append(f"row {r['id']}: {r['tl']}: {why}")
        cmp_cell, ratio_cell = "—", "—"
        cv = vals.get(r["cmp"]) if r.get("cmp") else None
        if r.get("cmp"):
            if cv:
                cmp_cell = fmt(cv.values(), r["kind"], runs)
                if r.get("cmp_extra"):
                    x = r["cmp_extra"](medians)
                    if x:
                        cmp_cell += f"; {x}"
            else:
                why = errs.get(r["cmp"], "step not run")
                cmp_cell = f"not measured ({why})"
                if not r.get("cmp_optional"):
                    missing.append(f"row {r['id']}: {r['cmp']}: {why}")
        rs = []
        if tl and cv and not r.get("no_ratio"):
            rs = ratio_values(tl, cv)
            if not rs:  # no run has both: fall back to the ratio of the medians
                rs = [statistics.median(tl.values()) / statistics.median(cv.values())]
            ratio_cell = fmt_ratio(rs)
        met = "—"
        if a.tiny:
            met = "— (tiny)"
        elif r.get("check") and tl and (cv or not r.get("cmp") or r.get("no_ratio")):
            t = medians[r["tl"]]
            c = medians.get(r["cmp"]) if r.get("cmp") else None
            ok = r["check"](t, c, statistics.median(rs) if rs else None, medians)
            met = "yes" if ok else "**no**"
        cmp_text = f"{r['cmp_what']}: {cmp_cell}" if r.get("cmp") else "—"
        out.append(f"| {r['id']} | {r['what']} | {tl_cell} | {cmp_text} | {ratio_cell} | {r['target']} | {met} |")

    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    if missing:
        sys.stderr.write("report: figures missing:\n" + "".join(f"  {m}\n" for m in missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

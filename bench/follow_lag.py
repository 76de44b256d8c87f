#!/usr/bin/env python3
"""Follower lag between two tokenledger nodes on one PostgreSQL log (bench/cluster.sh, issue 19).

While WRITERS threads create (and delete again) tokens through node A, a probe creates a token
on A every INTERVAL and asks node B for it (GET /api/v1/tokens/{id}, the session is shared) until
B has it; the lag of one probe is the time from A's 201 to B's first 200. It is an upper bound:
it includes one request to B (about a millisecond on loopback), and B is asked back to back.
Records p50_ms and p99_ms of the run, and the probe count, as metrics PREFIX.p50 / PREFIX.p99.

  bench/follow_lag.py --a URL --b URL --user U --password P --seconds S --results F --run K
"""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlbench import Client, emit  # noqa: E402

BODY = {"description": "follow-lag", "timeout": {"value": 1, "unit": "days"}}


def writer(url, cookie, stop, counts, refused):
    c = Client(url)
    c.cookie = cookie
    live = []
    while not stop.is_set():
        st, doc = c.call("POST", "/api/v1/tokens", BODY)
        if st == 201:
            live.append(doc["id"])
            counts.append(1)
        else:
            refused.append(st)
            time.sleep(0.05)  # no storm: a refusal is reported, not retried at full speed
        if len(live) > 10:
            c.call("DELETE", "/api/v1/tokens/" + live.pop(0))
    for tid in live:
        c.call("DELETE", "/api/v1/tokens/" + tid)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", required=True)
    p.add_argument("--b", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--writers", type=int, default=4)
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--results", required=True)
    p.add_argument("--run", type=int, default=1)
    p.add_argument("--prefix", default="c3")
    a = p.parse_args()

    cookie = Client(a.a).login(a.user, a.password)
    stop = threading.Event()
    counts, refused = [], []
    threads = [threading.Thread(target=writer, args=(a.a, cookie, stop, counts, refused)) for _ in range(a.writers)]
    for t in threads:
        t.start()
    probe_a, probe_b = Client(a.a), Client(a.b)
    probe_a.cookie = probe_b.cookie = cookie
    lags, missing = [], 0
    deadline = time.monotonic() + a.seconds
    while time.monotonic() < deadline:
        st, doc = probe_a.call("POST", "/api/v1/tokens", BODY)
        if st != 201:
            time.sleep(a.interval)
            continue
        acknowledged = time.monotonic()
        seen = None
        while time.monotonic() - acknowledged < 5:
            if probe_b.call("GET", "/api/v1/tokens/" + doc["id"])[0] == 200:
                seen = time.monotonic()
                break
        if seen is None:
            missing += 1
        else:
            lags.append((seen - acknowledged) * 1000)
        probe_a.call("DELETE", "/api/v1/tokens/" + doc["id"])
        time.sleep(a.interval)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    if len(lags) < 20 or missing or refused:
        emit(a.results, a.prefix + ".p99", a.run,
             error=f"{missing} probes not seen on B within 5 s, {len(lags)} seen, {len(refused)} writes refused "
             f"({sorted(set(refused))})")
        return 1
    lags.sort()
    q = lambda f: lags[min(len(lags) - 1, int(f * len(lags)))]  # noqa: E731
    emit(a.results, a.prefix + ".p50", a.run, q(0.50), probes=len(lags))
    emit(a.results, a.prefix + ".p99", a.run, q(0.99), probes=len(lags))
    emit(a.results, a.prefix + ".writes_per_second", a.run, len(counts) / a.seconds)
    print(f"follow_lag: {len(lags)} probes, p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms, "
          f"{len(counts) / a.seconds:.0f} writes/s on A", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Failover under Patroni (issue 19, item 6: the variants that run outside CI).

Needs `scripts/cluster.sh up` (etcd, three PostgreSQL 15 under Patroni in strict synchronous
mode, two tokenledger nodes). Creates (and deletes again) tokens through both nodes from several
threads, then at a
random moment does one of:

  leader   kill -9 of the leader's postmaster and backends (Patroni promotes the synchronous standby)
  sync     kill -9 of the synchronous standby's (Patroni names the other replica synchronous)
  all      kill -9 of all three at once (Patroni starts them again and elects a leader)

and goes on writing until writes have been acknowledged again for a few seconds. Then it checks
in the audit trail of both nodes that every acknowledged creation is recorded exactly once, that
both nodes serve the same trail, that /api/v1/audit/verify passes on both, and
that no stream version is stored twice, and prints the figures as JSON: acknowledged writes,
the write outage (the longest time without an acknowledged write from the kill on, per node)
and the seconds until Patroni had a healthy cluster again.

  tests/cluster/failover.py leader|sync|all [--seed N] [--writers-per-node 2]

Exit 0 when every check passed. Loopback only; every loop is bounded.
"""
import argparse
import http.cookiejar
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = os.environ.get("TOKENLEDGER_CLUSTER_DIR", "/tmp/tokenledger-cluster")
CLUSTER = os.path.join(REPO, "scripts", "cluster.sh")
PASSWORD = "failover test password 1"


class Client:
    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self.opener.open(req, timeout=timeout) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")
        except (urllib.error.URLError, OSError) as e:
            return 0, str(e)

    def sign_in(self, user, password):
        status, body = self.call("POST", "/api/v1/session", {"username": user, "password": password})
        if status not in (200, 201):
            raise SystemExit(f"sign-in of {user} at {self.base} failed: {status} {body}")


def status():
    return json.loads(subprocess.run([CLUSTER, "status"], check=True, capture_output=True, text=True).stdout)


def running(pid):
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, TypeError):
        return False


def healthy(st, killed=()):
    """A leader, a synchronous standby and a replica, each a live postmaster that was not killed
    (Patroni reports a killed member as it was until its key expires)."""
    roles = sorted(m["role"] for m in st["postgres"])
    pids = [m["pid"] for m in st["postgres"]]
    return roles == ["leader", "replica", "sync_standby"] and all(running(p) and p not in killed for p in pids)


def kill_postgres(member):
    """kill -9 of a postmaster and its backends at once, as when its machine goes."""
    pid = member["pid"]
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for p in [pid] + [int(c) for c in children]:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("variant", choices=["leader", "sync", "all"])
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--writers-per-node", type=int, default=2)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    st = status()
    if not healthy(st):
        raise SystemExit(f"the cluster is not healthy: {st['postgres']}")
    nodes = [n["url"] for n in st["tokenledger"]]
    admin = Client(nodes[0])
    admin.sign_in("admin", st["admin_password"])
    user = f"failover{args.seed % 100000}p{os.getpid()}"  # a fresh account: its trail holds this run only
    code, body = admin.call("POST", "/api/v1/users",
                            {"username": user, "password": PASSWORD, "groups": ["api-tokens", "auditors"]})
    if code != 201:
        raise SystemExit(f"creating {user}: {code} {body}")

    stop = threading.Event()
    lock = threading.Lock()
    results = []  # (node index, description, status, finished at)

    def writer(node, w):
        client = Client(nodes[node])
        client.sign_in(user, PASSWORD)
        live = []  # deleted again soon: a user may hold --max-tokens-per-user live tokens
        for i in range(100000):
            if stop.is_set():
                return
            desc = f"n{node}w{w}i{i}"
            code, body = client.call("POST", "/api/v1/tokens", {"description": desc, "timeout": {"value": 15, "unit": "days"}})
            with lock:
                results.append((node, body["id"] if code == 201 else desc, code, time.monotonic()))
            if code == 201:
                live.append(body["id"])
            else:
                time.sleep(0.02)  # no storm against a node that answers 503
            if len(live) > 20:
                code, _ = client.call("DELETE", "/api/v1/tokens/" + live[0])
                if code == 204:
                    live.pop(0)

    threads = [threading.Thread(target=writer, args=(n, w)) for n in range(len(nodes)) for w in range(args.writers_per_node)]
    for t in threads:
        t.start()
    time.sleep(2 + rng.random() * 3)

    roles = {m["role"]: m for m in st["postgres"]}
    victims = {"leader": [roles["leader"]], "sync": [roles["sync_standby"]], "all": st["postgres"]}[args.variant]
    killed_at = time.monotonic()
    for v in victims:
        kill_postgres(v)
    print(f"failover.py: killed {[v['name'] for v in victims]} ({args.variant}), seed {args.seed}", file=sys.stderr)

    # Until the cluster is healthy again and every node has acknowledged writes for 3 s since.
    healthy_after = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if healthy_after is None:
            try:
                if healthy(status(), killed={v["pid"] for v in victims}):
                    healthy_after = time.monotonic() - killed_at
            except subprocess.CalledProcessError:
                pass
        with lock:
            recent = {n for n, _, c, at in results if c == 201 and at > time.monotonic() - 3 and at > killed_at}
            resumed = all(any(n == i and c == 201 and at > killed_at for n, _, c, at in results) for i in range(len(nodes)))
        if healthy_after is not None and resumed and len(recent) == len(nodes):
            break
    stop.set()
    for t in threads:
        t.join(timeout=60)

    # The write outage per node: the longest time without an acknowledged write, from the kill on.
    outage = []
    for i in range(len(nodes)):
        times = [killed_at] + sorted(at for n, _, c, at in results if n == i and c == 201 and at > killed_at)
        outage.append(max((b - a for a, b in zip(times, times[1:])), default=None))

    # The record as each node serves it: every TokenCreated of the user, with its token id.
    failures = []
    trails = []
    for url in nodes:
        c = Client(url)
        c.sign_in(user, PASSWORD)
        trail, after, ok = [], 0, True
        for _ in range(10000):
            code, body = c.call("GET", f"/api/v1/audit?type=TokenCreated&actor={user}&limit=1000&after_seq={after}")
            if code != 200:
                failures.append(f"{url}: audit answered {code} {body}")
                ok = False
                break
            trail += [(e["seq"], e["token_id"]) for e in body["events"]]
            if body["next_after_seq"] is None:
                break
            after = body["next_after_seq"]
        trails.append(trail if ok else [])
        code, body = c.call("GET", "/api/v1/audit/verify", timeout=120)
        if code != 200 or not body.get("ok"):
            failures.append(f"{url}: verify answered {code} {body}")
    acknowledged = [d for _, d, c, _ in results if c == 201]
    for i, trail in enumerate(trails):
        counts = {}
        for _, token in trail:
            counts[token] = counts.get(token, 0) + 1
        lost = [d for d in acknowledged if counts.get(d, 0) != 1]
        twice = [d for d, k in counts.items() if k > 1]
        if lost:
            failures.append(f"{nodes[i]}: acknowledged writes not present exactly once: {lost[:10]}")
        if twice:
            failures.append(f"{nodes[i]}: created more than once: {twice[:10]}")
    if len(trails) == 2 and trails[0] != trails[1]:
        failures.append("the two nodes serve different trails")

    st = status()
    leader = [m for m in st["postgres"] if m["role"] == "leader"]
    if leader:
        with open(os.path.join(BASE, "pg.password")) as f:
            env = dict(os.environ, PGPASSWORD=f.read().strip())
        twice = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(leader[0]["port"]), "-U", "postgres", "-qAt", "-c",
                                "SELECT count(*) FROM (SELECT seq FROM tl_streams GROUP BY seq HAVING count(*) > 1) d",
                                "tokenledger"], env=env, capture_output=True, text=True)
        if twice.stdout.strip() != "0":
            failures.append(f"stream index rows sharing a seq: {twice.stdout.strip()} {twice.stderr.strip()}")
    else:
        failures.append("no leader at the end")

    report = {
        "variant": args.variant,
        "seed": args.seed,
        "acknowledged": len(acknowledged),
        "refused_or_unknown": sum(1 for _, _, c, _ in results if c != 201),
        "present_unacknowledged": len({t for _, t in trails[0]} - set(acknowledged)) if trails else None,
        "write_outage_seconds": [round(o, 3) if o is not None else None for o in outage],
        "patroni_healthy_after_seconds": round(healthy_after, 2) if healthy_after is not None else None,
        "failures": failures,
    }
    print(json.dumps(report, indent=2))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Helpers of bench/run.sh (standard library only).

  tlbench.py http-dataset  --url U --admin-password PW --user NAME --password PW --tokens K --codes-out F
      Fallback data set when tokenledger-bench-gen is unavailable: creates the user and K tokens
      through the HTTP API and writes `<id> <code>` lines.
  tlbench.py prepare       --url U --user NAME --password PW --secret-file F --codes F --out-dir D
      Signs in (D/cookie), deletes a tenth of the tokens (their codes become well-formed unknown
      codes), writes D/reveal_ids, D/introspect_bodies (about half invalid) and D/nginx_body (a JSON
      of the size of tokenledger's answer for a valid code).
  tlbench.py startup       --bin B --port P --log F [--timeout S] -- SERVER ARGS...
      Starts the server, measures process start -> first `200` of GET /readyz (polled every 2 ms),
      reads VmRSS, stops it with SIGTERM; prints one JSON line.
  tlbench.py asof-paths    --url U --user NAME --password PW --samples K --out F [--seed S]
      Writes K paths `/api/v1/tokens?owner=O&as_of=T`, each the owner and exact time of a random
      token record of the log (read through GET /api/v1/audit), for `latency`.
  tlbench.py latency       --url U --user NAME --password PW --paths F --samples N --results F --run K
                           --p99-metric M [--p50-metric M] [--timeout S]
      Signs in, then GETs the paths of F in turn (N requests, one at a time, one keep-alive
      connection) and records the p99 (and p50) of the request times in ms; any answer but 200 is
      an error.
  tlbench.py record        --results F --metric M --run K (--value X | --error MSG) [--unit U]
  tlbench.py gbench        --results F --run K --file JSON --take NAME_REGEX:FIELD:METRIC[:SCALE] ...
  tlbench.py dbbench       --results F --run K --metric M --file OUT
  tlbench.py pgbench       --results F --run K --metric M --file OUT
  tlbench.py wrk           --results F --run K --file OUT --rps-metric M [--p99-metric M]
                           [--max-error-fraction X]

Every parser writes JSON lines {"metric","run","value"} or {"metric","run","error"} to --results
and exits 1 when a figure is missing, so that a crashed or silent benchmark fails the run.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse


# ---------------------------------------------------------------- results

def emit(results, metric, run, value=None, error=None, **extra):
    rec = {"metric": metric, "run": run}
    if error is not None:
        rec["error"] = str(error)[:300]
    else:
        rec["value"] = value
    rec.update(extra)
    with open(results, "a") as f:
        f.write(json.dumps(rec) + "\n")


def cmd_record(a):
    if a.error is not None:
        emit(a.results, a.metric, a.run, error=a.error)
        return 0
    emit(a.results, a.metric, a.run, value=float(a.value))
    return 0


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError as e:
        return ""


def tail_reason(text, default):
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    return lines[-1][:200] if lines else default


def cmd_gbench(a):
    ok = True
    if a.rc:
        how = f"exited with status {a.rc}"
        if a.rc > 128:
            try:
                how = f"killed by {signal.Signals(a.rc - 128).name}"
            except ValueError:
                pass
        why = f"{how}: {tail_reason(read_text(a.log or ''), 'no output')}"
        for spec in a.take:
            emit(a.results, spec.split(":")[2].rstrip("?"), a.run, error=why)
        return 1
    try:
        with open(a.file) as f:
            doc = json.load(f)
        benches = doc.get("benchmarks", [])
    except (OSError, ValueError) as e:
        benches = None
        why = f"no benchmark JSON ({e.__class__.__name__})"
        if a.log:
            why = f"{why}: {tail_reason(read_text(a.log), 'no output')}"
    for spec in a.take:
        parts = spec.split(":")
        name_re, field, metric = parts[0], parts[1], parts[2]
        scale = float(parts[3]) if len(parts) > 3 else 1.0
        optional = metric.endswith("?")  # a figure for the text only: no error when absent
        metric = metric.rstrip("?")
        if optional and benches is not None and not any(
                re.search(name_re, b.get("name", "")) and field in b for b in benches):
            continue
        if benches is None:
            if not optional:
                emit(a.results, metric, a.run, error=why)
                ok = False
            continue
        found = [b for b in benches if re.search(name_re, b.get("name", ""))
                 and b.get("run_type", "iteration") == "iteration"]
        if not found:
            emit(a.results, metric, a.run, error=f"no benchmark matching {name_re} in the output")
            ok = False
            continue
        failed = [b for b in found if b.get("error_occurred")]
        if failed:
            b = failed[0]
            emit(a.results, metric, a.run, error=f"{b['name']}: {b.get('error_message', 'error')}")
            ok = False
            continue
        having = [b for b in found if field in b]
        if not having:
            emit(a.results, metric, a.run, error=f"{found[0]['name']} has no {field}")
            ok = False
            continue
        # One process per run: the first matching benchmark that has the field is this run's figure.
        emit(a.results, metric, a.run, value=float(having[0][field]) * scale, name=having[0]["name"])
    # Every benchmark of the output counts (also those without a row): one that failed fails the step.
    for b in benches or []:
        if b.get("error_occurred"):
            sys.stderr.write(f"gbench: {b.get('name')}: {b.get('error_message', 'error')}\n")
            ok = False
    return 0 if ok else 1


def cmd_dbbench(a):
    text = read_text(a.file)
    m = re.search(r"^fillseq\s*:.*?([0-9.]+) ops/sec", text, re.M)
    if not m:
        emit(a.results, a.metric, a.run, error=f"db_bench: {tail_reason(text, 'no output')}")
        return 1
    emit(a.results, a.metric, a.run, value=float(m.group(1)))
    return 0


def cmd_pgbench(a):
    text = read_text(a.file)
    m = re.search(r"^tps = ([0-9.]+)", text, re.M)
    failed = re.search(r"number of failed transactions: (\d+)", text)
    if not m:
        emit(a.results, a.metric, a.run, error=f"pgbench: {tail_reason(text, 'no output')}")
        return 1
    if failed and int(failed.group(1)) > 0:
        emit(a.results, a.metric, a.run, error=f"pgbench: {failed.group(1)} failed transactions")
        return 1
    emit(a.results, a.metric, a.run, value=float(m.group(1)))
    return 0


def cmd_wrk(a):
    text = read_text(a.file)
    m = re.search(r"^WRKJSON (\{.*\})$", text, re.M)
    metrics = [a.rps_metric] + ([a.p99_metric] if a.p99_metric else [])
    if not m:
        for metric in metrics:
            emit(a.results, metric, a.run, error=f"wrk: {tail_reason(text, 'no output')}")
        return 1
    d = json.loads(m.group(1))
    errs = d["errors"]
    bad = errs["status"] + errs["connect"] + errs["read"] + errs["write"] + errs["timeout"]
    if d["requests"] == 0 or bad > a.max_error_fraction * max(d["requests"], 1):
        why = (f"wrk: {bad} of {d['requests']} requests failed or not 2xx "
               f"(status {errs['status']}, connect {errs['connect']}, read {errs['read']}, "
               f"timeout {errs['timeout']})")
        for metric in metrics:
            emit(a.results, metric, a.run, error=why)
        return 1
    emit(a.results, a.rps_metric, a.run, value=d["rps"], requests=d["requests"], errors=bad)
    if a.p99_metric:
        emit(a.results, a.p99_metric, a.run, value=d["p99_us"] / 1000.0)
    return 0


# ---------------------------------------------------------------- HTTP

class Client:
    def __init__(self, url, timeout=60):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.conn = None
        self.cookie = None
        self.timeout = timeout

    def call(self, method, path, body=None, headers=None, form=False):
        h = dict(headers or {})
        data = None
        if body is not None:
            if form:
                data = body.encode()
                h["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                h["Content-Type"] = "application/json"
        if self.cookie:
            h["Cookie"] = self.cookie
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (ConnectionError, http.client.HTTPException, socket.timeout):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        for k, v in r.getheaders():
            if k.lower() == "set-cookie" and v.startswith("tl_session="):
                self.cookie = v.split(";", 1)[0]
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        return r.status, doc

    def login(self, user, password):
        st, doc = self.call("POST", "/api/v1/session", {"username": user, "password": password})
        if st != 200:
            raise SystemExit(f"sign-in as {user} failed: {st} {doc}")
        return self.cookie


def cmd_http_dataset(a):
    admin = Client(a.url)
    admin.login("admin", a.admin_password)
    st, doc = admin.call("POST", "/api/v1/users", {"username": a.user, "password": a.password,
                                                   "groups": ["api-tokens", "auditors"]})
    if st not in (201, 409):
        raise SystemExit(f"creating user {a.user}: {st} {doc}")
    cookie = Client(a.url).login(a.user, a.password)

    def make(n):
        c = Client(a.url)
        c.cookie = cookie
        st, doc = c.call("POST", "/api/v1/tokens", {"description": f"bench token {n}",
                                                    "timeout": {"value": 365, "unit": "days"}})
        if st != 201:
            raise SystemExit(f"creating a token: {st} {doc}")
        st, rev = c.call("POST", f"/api/v1/tokens/{doc['id']}/reveal")
        if st != 200:
            raise SystemExit(f"revealing a token: {st} {rev}")
        return doc["id"], rev["token"]

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        pairs = list(ex.map(make, range(a.tokens)))
    with open(a.codes_out, "w") as f:
        for tid, code in pairs:
            f.write(f"{tid} {code}\n")
    print(json.dumps({"tokens": len(pairs)}))
    return 0


def cmd_prepare(a):
    os.makedirs(a.out_dir, exist_ok=True)
    pairs = []
    with open(a.codes) as f:
        for line in f:
            p = line.split()
            if len(p) >= 2:
                pairs.append((p[0], p[1]))
    if len(pairs) < 4:
        raise SystemExit(f"prepare: need at least 4 tokens in {a.codes}, found {len(pairs)}")
    c = Client(a.url)
    cookie = c.login(a.user, a.password)
    with open(os.path.join(a.out_dir, "cookie"), "w") as f:
        f.write(cookie + "\n")

    n_del = max(1, len(pairs) // 10)
    live, deleted = pairs[:-n_del], pairs[-n_del:]
    for tid, _ in deleted:
        st, doc = c.call("DELETE", f"/api/v1/tokens/{tid}")
        if st not in (204, 404):
            raise SystemExit(f"prepare: deleting {tid}: {st} {doc}")
    with open(os.path.join(a.out_dir, "reveal_ids"), "w") as f:
        for tid, _ in live:
            f.write(tid + "\n")

    # Per group of four requests: two valid codes, one deleted token's code (passes the checksum,
    # not found) and one broken code (alternately a flipped character, so the checksum fails,
    # and a malformed string).
    bodies = []
    for n, (_, code) in enumerate(live):
        other = live[(n + 1) % len(live)][1]
        dead = deleted[n % len(deleted)][1]
        if n % 2 == 0:
            k = len(code) // 2
            broken = code[:k] + ("B" if code[k] != "B" else "C") + code[k + 1:]
        else:
            broken = f"not-a-token-{n}"
        bodies += ["token=" + code, "token=" + dead, "token=" + other, "token=" + broken]
    with open(os.path.join(a.out_dir, "introspect_bodies"), "w") as f:
        f.write("\n".join(bodies) + "\n")

    secret = open(a.secret_file).read().strip()
    st, doc = c.call("POST", "/api/v1/introspect", "token=" + live[0][1],
                     headers={"Authorization": "Bearer " + secret}, form=True)
    if st != 200 or not doc or not doc.get("active"):
        raise SystemExit(f"prepare: introspection of a valid code answered {st} {doc}")
    size = len(json.dumps(doc, separators=(",", ":")).encode())
    st2, doc2 = c.call("POST", "/api/v1/introspect", "token=" + deleted[0][1],
                       headers={"Authorization": "Bearer " + secret}, form=True)
    if st2 != 200 or not doc2 or doc2.get("active"):
        raise SystemExit(f"prepare: introspection of a deleted token's code answered {st2} {doc2}")
    # nginx answers a JSON of the same size as tokenledger's answer for a valid code.
    body = {"active": True, "sub": a.user, "token_id": live[0][0], "exp": 0, "iat": 0, "pad": ""}
    base = len(json.dumps(body, separators=(",", ":")).encode())
    body["pad"] = "x" * max(0, size - base)
    text = json.dumps(body, separators=(",", ":"))
    with open(os.path.join(a.out_dir, "nginx_body"), "w") as f:
        f.write(text + "\n")
    print(json.dumps({"live": len(live), "deleted": len(deleted), "bodies": len(bodies),
                      "answer_bytes": size, "nginx_body_bytes": len(text.encode())}))
    return 0


# ---------------------------------------------------------------- rows 10 and 11

def cmd_asof_paths(a):
    import random
    c = Client(a.url)
    c.login(a.user, a.password)
    st, doc = c.call("GET", "/api/v1/audit?type=TokenCreated&limit=1")
    if st != 200:
        raise SystemExit(f"asof-paths: GET /api/v1/audit: {st} {doc}")
    st, head = c.call("GET", "/api/v1/audit/verify")
    if st != 200:
        raise SystemExit(f"asof-paths: GET /api/v1/audit/verify: {st} {head}")
    last = head["head"]["seq"]
    rng = random.Random(a.seed)
    paths = []
    while len(paths) < a.samples:
        after = rng.randrange(0, max(1, last - 1))
        st, page = c.call("GET", f"/api/v1/audit?after_seq={after}&limit=20")
        if st != 200:
            raise SystemExit(f"asof-paths: GET /api/v1/audit: {st} {page}")
        owned = [e for e in page["events"] if e.get("owner")]
        if owned:
            e = owned[0]
            paths.append("/api/v1/tokens?owner=" + urllib.parse.quote(e["owner"], safe="") +
                         "&as_of=" + urllib.parse.quote(e["at"], safe=""))
    with open(a.out, "w") as f:
        f.write("\n".join(paths) + "\n")
    print(json.dumps({"paths": len(paths), "head_seq": last}))
    return 0


def cmd_latency(a):
    with open(a.paths) as f:
        paths = [line.strip() for line in f if line.strip()]
    if not paths:
        raise SystemExit(f"latency: no paths in {a.paths}")
    try:
        c = Client(a.url, timeout=a.timeout)
        c.login(a.user, a.password)
        ms = []
        for n in range(a.samples):
            path = paths[n % len(paths)]
            t0 = time.perf_counter()
            st, doc = c.call("GET", path)
            ms.append((time.perf_counter() - t0) * 1000)
            if st != 200:
                raise RuntimeError(f"GET {path}: {st} {json.dumps(doc)[:200]}")
            if a.expect_ok and not (doc or {}).get("ok"):
                raise RuntimeError(f"GET {path}: ok is not true: {json.dumps(doc)[:200]}")
    except (RuntimeError, OSError, http.client.HTTPException, SystemExit) as e:
        emit(a.results, a.p99_metric, a.run, error=e)
        if a.p50_metric:
            emit(a.results, a.p50_metric, a.run, error=e)
        return 1
    ms.sort()
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    p50 = ms[len(ms) // 2]
    emit(a.results, a.p99_metric, a.run, value=p99, samples=len(ms))
    if a.p50_metric:
        emit(a.results, a.p50_metric, a.run, value=p50, samples=len(ms))
    print(json.dumps({"samples": len(ms), "p50_ms": round(p50, 3), "p99_ms": round(p99, 3),
                      "max_ms": round(ms[-1], 3)}))
    return 0


# ---------------------------------------------------------------- start-up

def readyz_status(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
    except OSError:
        return None
    try:
        s.sendall(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
        parts = data.split(b" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    except OSError:
        return None
    finally:
        s.close()


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cmd_startup(a):
    if a.args and a.args[0] == "--":
        a.args = a.args[1:]
    log = open(a.log, "w")
    if readyz_status(a.port) is not None:
        raise SystemExit(f"startup: something already answers on port {a.port}")
    t0 = time.monotonic()
    proc = subprocess.Popen([a.bin] + a.args, stdout=log, stderr=subprocess.STDOUT)
    if a.pid_file:
        with open(a.pid_file, "w") as f:
            f.write(f"{proc.pid}\n")
    out = {"pid": proc.pid}
    try:
        while True:
            st = readyz_status(a.port)
            if st == 200:
                out["seconds"] = time.monotonic() - t0
                break
            if proc.poll() is not None:
                out["error"] = f"server exited ({proc.returncode}) before /readyz answered 200"
                break
            if time.monotonic() - t0 > a.timeout:
                out["error"] = f"/readyz not 200 after {a.timeout} s"
                break
            time.sleep(0.002)
        if "seconds" in out:
            out["rss_kib"] = rss_kib(proc.pid)
    finally:
        if proc.poll() is None:
            t1 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=a.stop_timeout)
                out["stop_seconds"] = time.monotonic() - t1
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                out.setdefault("error", f"server did not stop within {a.stop_timeout} s of SIGTERM")
        out["exit_code"] = proc.returncode
        log.close()
        if a.pid_file:  # the process is gone: its pid must not be signalled by a clean-up later
            try:
                os.remove(a.pid_file)
            except OSError:
                pass
    text = read_text(a.log)
    m = re.search(r"checkpoint at seq (\d+), folded (\d+) newer events", text)
    if m:
        out["checkpoint_seq"], out["folded_after_checkpoint"] = int(m.group(1)), int(m.group(2))
    print(json.dumps(out))
    if a.results:
        if "error" in out:
            why = f"{out['error']}: {tail_reason(text, 'no output')}"
            emit(a.results, a.prefix + "_s", a.run, error=why)
            emit(a.results, a.prefix + "_rss_mib", a.run, error=why)
        else:
            emit(a.results, a.prefix + "_s", a.run, value=out["seconds"])
            if out.get("rss_kib") is not None:
                emit(a.results, a.prefix + "_rss_mib", a.run, value=out["rss_kib"] / 1024.0)
            if a.after_metric and "folded_after_checkpoint" in out:
                emit(a.results, a.after_metric, a.run, value=out["folded_after_checkpoint"])
    return 0 if "error" not in out else 1


def cmd_dataset_note(a):
    d = json.loads(a.summary)
    print(f"{int(d['events']):,} events, {int(d.get('live_tokens', 0)):,} live tokens, "
          f"{int(d.get('users', 0)):,} users, generated by `tokenledger-bench-gen` in "
          f"{float(d['seconds']):.1f} s ({float(d['events_per_second']):,.0f} events/s).")
    return 0


# ---------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("dataset-note")
    s.add_argument("summary")
    s.set_defaults(fn=cmd_dataset_note)

    s = sub.add_parser("record")
    s.add_argument("--results", required=True)
    s.add_argument("--metric", required=True)
    s.add_argument("--run", type=int, required=True)
    s.add_argument("--value")
    s.add_argument("--error")
    s.set_defaults(fn=cmd_record)

    s = sub.add_parser("gbench")
    s.add_argument("--results", required=True)
    s.add_argument("--run", type=int, required=True)
    s.add_argument("--file", required=True)
    s.add_argument("--log", help="the benchmark's console output, for the error reason")
    s.add_argument("--rc", type=int, default=0, help="the benchmark's exit status")
    s.add_argument("--take", nargs="+", required=True)
    s.set_defaults(fn=cmd_gbench)

    for name, fn in (("dbbench", cmd_dbbench), ("pgbench", cmd_pgbench)):
        s = sub.add_parser(name)
        s.add_argument("--results", required=True)
        s.add_argument("--run", type=int, required=True)
        s.add_argument("--metric", required=True)
        s.add_argument("--file", required=True)
        s.set_defaults(fn=fn)

    s = sub.add_parser("wrk")
    s.add_argument("--results", required=True)
    s.add_argument("--run", type=int, required=True)
    s.add_argument("--file", required=True)
    s.add_argument("--rps-metric", required=True)
    s.add_argument("--p99-metric")
    s.add_argument("--max-error-fraction", type=float, default=0.001)
    s.set_defaults(fn=cmd_wrk)

    s = sub.add_parser("http-dataset")
    s.add_argument("--url", required=True)
    s.add_argument("--admin-password", required=True)
    s.add_argument("--user", required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--tokens", type=int, default=1000)
    s.add_argument("--codes-out", required=True)
    s.set_defaults(fn=cmd_http_dataset)

    s = sub.add_parser("prepare")
    s.add_argument("--url", required=True)
    s.add_argument("--user", required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--secret-file", required=True)
    s.add_argument("--codes", required=True)
    s.add_argument("--out-dir", required=True)
    s.set_defaults(fn=cmd_prepare)

    s = sub.add_parser("asof-paths")
    s.add_argument("--url", required=True)
    s.add_argument("--user", required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--samples", type=int, default=200)
    s.add_argument("--seed", type=int, default=16)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_asof_paths)

    s = sub.add_parser("latency")
    s.add_argument("--url", required=True)
    s.add_argument("--user", required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--paths", required=True)
    s.add_argument("--samples", type=int, default=200)
    s.add_argument("--results", required=True)
    s.add_argument("--run", type=int, default=1)
    s.add_argument("--p99-metric", required=True)
    s.add_argument("--p50-metric")
    s.add_argument("--expect-ok", action="store_true", help="the answer's `ok` must be true (verify)")
    s.add_argument("--timeout", type=float, default=900)
    s.set_defaults(fn=cmd_latency)

    s = sub.add_parser("startup")
    s.add_argument("--bin", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--log", required=True)
    s.add_argument("--pid-file")
    s.add_argument("--results")
    s.add_argument("--run", type=int, default=1)
    s.add_argument("--prefix", default="startup")
    s.add_argument("--after-metric")
    s.add_argument("--timeout", type=float, default=900)
    s.add_argument("--stop-timeout", type=float, default=300)
    s.add_argument("args", nargs=argparse.REMAINDER)
    s.set_defaults(fn=cmd_startup)

    a = p.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)

#!/usr/bin/env bash
# The nginx peer of bench/run.sh (row 3): Debian's nginx with its own configuration, prefix, pid,
# logs and temp paths in a temporary directory, one worker, listening on 127.0.0.1:PORT only and
# answering every request `200` with a fixed JSON body (the size of tokenledger's introspection
# answer). It neither uses nor touches a system nginx (/etc/nginx, port 80).
#
#   bench/peers/nginx.sh start DIR PORT BODY_FILE   BODY_FILE holds the JSON body (one line)
#   bench/peers/nginx.sh stop DIR                   graceful stop; no error if not running
set -euo pipefail

cmd=${1:?usage: nginx.sh start DIR PORT BODY_FILE | stop DIR}
dir=${2:?DIR missing}
nginx=$(command -v nginx || echo /usr/sbin/nginx)

case "$cmd" in
  start)
    port=${3:?PORT missing}
    body_file=${4:?BODY_FILE missing}
    body=$(head -c 100000 "$body_file" | tr -d '\n')
    if [[ "$body" == *"'"* || "$body" == *\\* ]]; then
      echo "nginx.sh: the body must not contain ' or \\" >&2
      exit 2
    fi
    mkdir -p "$dir/tmp" "$dir/logs"
    cat >"$dir/nginx.conf" <<EOF
# bench/peers/nginx.sh: private nginx peer, loopback only
daemon on;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/json;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  # wrk keeps its connections open: no per-connection request cap, as tokenledger has none.
  keepalive_requests 1000000000;
  keepalive_timeout 75s;
  server_tokens off;
  server {
    listen 127.0.0.1:$port;
    location / {
      return 200 '$body';
    }
  }
}
EOF
    # -e: the start-up error log too goes to DIR (not /var/log/nginx).
    "$nginx" -e "$dir/logs/error.log" -p "$dir" -c "$dir/nginx.conf" -t -q ||
      { cat "$dir/logs/error.log" >&2; exit 1; }
    "$nginx" -e "$dir/logs/error.log" -p "$dir" -c "$dir/nginx.conf"
    for _ in $(seq 100); do
      if [[ -s "$dir/nginx.pid" ]] && curl -fsS -o /dev/null "http://127.0.0.1:$port/"; then exit 0; fi
      sleep 0.05
    done
    echo "nginx.sh: nginx did not answer on 127.0.0.1:$port" >&2
    cat "$dir/logs/error.log" >&2
    exit 1
    ;;
  stop)
    if [[ -s "$dir/nginx.pid" ]]; then
      pid=$(cat "$dir/nginx.pid")
      kill -QUIT "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.05; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    ;;
  *)
    echo "nginx.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# gateway-bench.sh -- load test of `docflow-host run` serving a flow of three
# no-op executors on loopback, beside Debian's nginx answering a fixed 200
# under the same load, in one run. Not a test: it prints figures and the
# targets they meet, and exits non-zero only when something fails (the server
# does not start, a request is not answered with 200).
#
#   tools/gateway-bench.sh [BUILD_DIR] [--duration S] [--repeat R] [--threads T]
#
#   BUILD_DIR     a docflow build with host/docflow-host and tools/bench_noop.so
#                 (default: build); RelWithDebInfo or Release, not a sanitizer one
#   --duration S  seconds of each wrk run and of the single-client run (default 10)
#   --repeat R    rounds; every figure is the median of R runs (default 3)
#   --threads T   wrk threads (default 2)
#
# The flow: noop0 -> noop1 -> noop2, each BenchNoop (tools/bench/noop_executor.c),
# served by `docflow-host run FLOW --port 0`. The bodies, built once by
# tools/gateway-bench/make_bodies.py: a 1-document JSON request (73 bytes), and
# 100 documents with a 50-character text and a 128-float embedding each, as
# JSON (floats with 9 digits) and as a jina.DataRequestProto (protobuf). Every
# request is POST /post; wrk sends it with tools/gateway-bench/post.lua.
#
# Each round runs, one after another (so drifting load on a shared machine
# hits every case alike):
#
#   nginx, 1-doc JSON POST, 64 conn.     wrk -t T -c 64 -d S --latency   (nginx answers
#                                        a fixed 200 {"ok":true}; 2 workers = nproc)
#   docflow, 1-doc JSON, 64 conn.        wrk -t T -c 64 -d S --latency
#   docflow, 100-doc JSON, 64 conn.      wrk -t T -c 64 -d S --latency
#   docflow, 100-doc protobuf, 64 conn.  wrk -t T -c 64 -d S --latency   (application/x-protobuf)
#   docflow, 1-doc JSON, 16 conn.        wrk -t T -c 16 -d S --latency
#   nginx, 1-doc JSON POST, 16 conn.     wrk -t T -c 16 -d S --latency   (the p99 reference)
#   docflow, 1 client, sequential        tools/gateway-bench/seqclient.c: one keep-alive
#                                        connection, next request after the whole answer
#   nginx, 1 client, sequential          the same against nginx
#
# plus the idle RSS of docflow-host run (VmRSS after the ready line, before any
# load) and its RSS after the load. wrk, nginx-light, protoc and python3-protobuf
# are installed with apt-get when missing (run as root, or install them first).
# Prints a Markdown table for docs/benchmarks.md ("Gateway").
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
BUILD=$SRC/build
DURATION=10
REPEAT=3
THREADS=2
while [ $# -gt 0 ]; do
    case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "gateway-bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) BUILD=$(cd "$1" && pwd) || exit 2; shift ;;
    esac
done
HOST=$BUILD/host/docflow-host
NOOP=$BUILD/tools/bench_noop.so
[ -x "$HOST" ] || { echo "gateway-bench.sh: no $HOST (build docflow first, or name the build folder)" >&2; exit 2; }
[ -f "$NOOP" ] || { echo "gateway-bench.sh: no $NOOP (configure with -DDOCFLOW_BENCH=ON)" >&2; exit 2; }
die() { echo "gateway-bench.sh: $*" >&2; exit 1; }

# ---- tools: Debian's wrk and nginx, installed when missing -----------------------------------
PKGS=(wrk nginx-light protobuf-compiler python3-protobuf)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    command -v nginx >/dev/null && [ "${missing[*]}" = nginx-light ] && missing=() # any nginx will do
fi
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "needs ${missing[*]}: apt-get install -y ${missing[*]} (as root)"
    echo "installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
        { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; } ||
        die "apt-get install ${missing[*]} failed"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for tool in wrk "$NGINX" curl /usr/bin/python3 protoc "${CC:-cc}"; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gateway-bench.XXXXXX")
SERVER_PID='' NGINX_PID=''
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# ---- bodies, the client, the flow, nginx's configuration -------------------------------------
/usr/bin/python3 "$HERE/gateway-bench/make_bodies.py" "$SRC/plugin-api/proto" "$TMP" >&2 ||
    die "cannot build the request bodies"
"${CC:-cc}" -std=c11 -O2 -o "$TMP/seqclient" "$HERE/gateway-bench/seqclient.c" || die "cannot compile seqclient"
NDOCS=$(cat "$TMP/many.count")
cat >"$TMP/flow.yml" <<EOF
jtype: Flow
executors:
  - name: noop0
    uses: {jtype: BenchNoop, metas: {library: $NOOP}}
  - name: noop1
    uses: {jtype: BenchNoop, metas: {library: $NOOP}}
  - name: noop2
    uses: {jtype: BenchNoop, metas: {library: $NOOP}}
EOF
NGINX_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { default_type application/json; return 200 '{"ok":true}'; }
  }
}
EOF

# ---- servers ----------------------------------------------------------------------------------
"$HOST" run "$TMP/flow.yml" --port 0 >"$TMP/run.log" 2>&1 &
SERVER_PID=$!
PORT=
for _ in $(seq 1 100); do
    PORT=$(sed -n 's#.*ready on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$TMP/run.log")
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
[ -n "$PORT" ] || die "docflow-host run did not get ready: $(cat "$TMP/run.log")"
sleep 0.5 # settle, then the idle figure
IDLE_RSS_KB=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" >"$TMP/nginx/out.log" 2>&1 &
NGINX_PID=$!
for _ in $(seq 1 50); do
    curl -sf -o /dev/null -X POST --data-binary @"$TMP/one.json" "http://127.0.0.1:$NGINX_PORT/post" && break
    sleep 0.1
done

DF=http://127.0.0.1:$PORT/post
NG=http://127.0.0.1:$NGINX_PORT/post
# Every body must come back as a 200 with its documents before any timing.
check() { # URL BODY CTYPE WHAT
    local code
    code=$(curl -s -o "$TMP/check.out" -w '%{http_code}' -H "Content-Type: $3" --data-binary @"$2" "$1") ||
        die "$4: curl failed"
    [ "$code" = 200 ] || die "$4: HTTP $code: $(head -c 300 "$TMP/check.out")"
}
check "$NG" "$TMP/one.json" application/json "nginx"
check "$DF" "$TMP/one.json" application/json "docflow 1-doc JSON"
grep -q '"text":"hello world"' "$TMP/check.out" || die "1-doc JSON: document missing from the answer"
grep -q '"executor":"noop2"' "$TMP/check.out" || die "1-doc JSON: noop2 missing from the routes"
check "$DF" "$TMP/many.json" application/json "docflow 100-doc JSON"
[ "$(grep -o '"embedding":\[' "$TMP/check.out" | wc -l)" = "$NDOCS" ] || die "100-doc JSON: not $NDOCS documents back"
check "$DF" "$TMP/many.pb" application/x-protobuf "docflow 100-doc protobuf"
[ "$(stat -c %s "$TMP/check.out")" -gt "$(stat -c %s "$TMP/many.pb")" ] || die "100-doc protobuf: answer too short"

# ---- runs ------------------------------------------------------------------------------------------
# wrk's figures: "Requests/sec: X", "50% Y", "99% Z" with us/ms/s units.
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
                                 else if (v ~ /m$/) print n * 60e6; else print n * 1e6 }'; }
run_wrk() { # NAME URL CONNECTIONS BODY CTYPE
    local out=$TMP/wrk.out
    BODY=$4 CTYPE=$5 wrk -t "$THREADS" -c "$3" -d "${DURATION}s" --latency -s "$HERE/gateway-bench/post.lua" "$2" >"$out" 2>&1 ||
        die "wrk failed: $(cat "$out")"
    grep -q 'Non-2xx\|Socket errors' "$out" && die "$1: wrk saw errors: $(grep 'Non-2xx\|Socket errors' "$out")"
    local rps p50 p99
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(to_us "$(awk '$1 == "50%" {print $2}' "$out")")
    p99=$(to_us "$(awk '$1 == "99%" {print $2}' "$out")")
    echo "$1 $rps $p50 $p99" >>"$TMP/results"
}
run_seq() { # NAME PORT
    local line
    line=$("$TMP/seqclient" "$2" /post "$TMP/one.json" application/json "$DURATION" 2000) || die "$1: seqclient failed"
    # requests N p50_us X p90_us X p99_us X max_us X
    # shellcheck disable=SC2086 # split the line into its fields
    set -- "$1" $line
    echo "$1 $(awk -v n="$3" -v d="$DURATION" 'BEGIN {printf "%.0f", n / d}') $5 $9" >>"$TMP/results"
}
: >"$TMP/results"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$REPEAT"); do
    echo "round $r/$REPEAT" >&2
    run_wrk nginx_1doc_c64 "$NG" 64 "$TMP/one.json" application/json
    run_wrk df_1doc_json_c64 "$DF" 64 "$TMP/one.json" application/json
    run_wrk df_100doc_json_c64 "$DF" 64 "$TMP/many.json" application/json
    run_wrk df_100doc_pb_c64 "$DF" 64 "$TMP/many.pb" application/x-protobuf
    run_wrk df_1doc_json_c16 "$DF" 16 "$TMP/one.json" application/json
    run_wrk nginx_1doc_c16 "$NG" 16 "$TMP/one.json" application/json
    run_seq df_1doc_seq "$PORT"
    run_seq nginx_1doc_seq "$NGINX_PORT"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
LOADED_RSS_KB=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
kill -0 "$SERVER_PID" 2>/dev/null || die "docflow-host run died: $(tail -5 "$TMP/run.log")"
grep -q ' ERROR ' "$TMP/run.log" && echo "gateway-bench.sh: the server logged errors: $(grep ' ERROR ' "$TMP/run.log" | head -3)" >&2

# ---- the table -----------------------------------------------------------------------------------
median() { # NAME FIELD(2 rps, 3 p50, 4 p99)
    awk -v n="$1" -v f="$2" '$1 == n {print $f}' "$TMP/results" | sort -g |
        awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
fmt_us() { awk -v u="$1" 'BEGIN { if (u >= 10000) printf "%.1f ms", u / 1000; else if (u >= 1000) printf "%.2f ms", u / 1000; else printf "%.0f µs", u }'; }
row() { # NAME LABEL DOCS_PER_REQUEST CONNECTIONS
    local rps p50 p99
    rps=$(median "$1" 2) p50=$(median "$1" 3) p99=$(median "$1" 4)
    printf '| %s | %s | %s | %s | %s | %s |\n' "$2" "$4" "$(printf '%.0f' "$rps")" \
        "$(awk -v r="$rps" -v d="$3" 'BEGIN {printf "%.0f", r * d}')" "$(fmt_us "$p50")" "$(fmt_us "$p99")"
}
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? "PASS" : "BELOW" }'; }   # a >= b
verdict_lt() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 < b + 0) ? "PASS" : "BELOW" }'; } # a < b

NG_RPS=$(median nginx_1doc_c64 2)
DF1_RPS=$(median df_1doc_json_c64 2)
PB_DOCS=$(awk -v r="$(median df_100doc_pb_c64 2)" -v d="$NDOCS" 'BEGIN {printf "%.0f", r * d}')
P99_16=$(median df_1doc_json_c16 4)
SEQ_P50=$(median df_1doc_seq 3)
RATIO=$(awk -v a="$DF1_RPS" -v b="$NG_RPS" 'BEGIN {printf "%.2f", a / b}')

echo
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); kernel $(uname -r)"
echo "load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
echo "$("$NGINX" -v 2>&1); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); build: $(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")"
echo "wrk -t $THREADS -d ${DURATION}s --latency; median of $REPEAT rounds; bodies: 1-doc JSON $(stat -c %s "$TMP/one.json") B," \
    "$NDOCS-doc JSON $(stat -c %s "$TMP/many.json") B, $NDOCS-doc protobuf $(stat -c %s "$TMP/many.pb") B"
echo
echo "| server and request | connections | requests/s | documents/s | p50 | p99 |"
echo "|---|---|---|---|---|---|"
row nginx_1doc_c64 "nginx, fixed 200 (1-doc JSON POST)" 1 64
row df_1doc_json_c64 "docflow, 1-doc JSON" 1 64
row df_100doc_json_c64 "docflow, $NDOCS-doc JSON" "$NDOCS" 64
row df_100doc_pb_c64 "docflow, $NDOCS-doc protobuf" "$NDOCS" 64
row df_1doc_json_c16 "docflow, 1-doc JSON" 1 16
row nginx_1doc_c16 "nginx, fixed 200 (1-doc JSON POST)" 1 16
row df_1doc_seq "docflow, 1-doc JSON, one client, sequential" 1 1
row nginx_1doc_seq "nginx, one client, sequential" 1 1
echo
echo "every run (requests/s, p50 µs, p99 µs), in the order they ran:"
echo
echo '```'
awk '{printf "%-20s %10.0f %10.0f %10.0f\n", $1, $2, $3, $4}' "$TMP/results"
echo '```'
echo
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
echo "docflow-host run RSS (VmRSS): idle $(mib "$IDLE_RSS_KB") ($IDLE_RSS_KB kB); after the load $(mib "$LOADED_RSS_KB")"
echo
echo "| target | measured | target | result |"
echo "|---|---|---|---|"
echo "| 1-doc JSON requests/s ÷ nginx's (64 conn.) | $RATIO | ≥ 0.50 | $(verdict "$RATIO" 0.5) |"
echo "| $NDOCS-doc protobuf documents/s (64 conn.) | $PB_DOCS | ≥ 500000 | $(verdict "$PB_DOCS" 500000) |"
echo "| 1-doc JSON p99 at 16 connections | $(fmt_us "$P99_16") | < 5 ms | $(verdict_lt "$P99_16" 5000) |"
echo "| one sequential client, 1-doc p50 | $(fmt_us "$SEQ_P50") | < 100 µs | $(verdict_lt "$SEQ_P50" 100) |"
echo "| idle RSS of docflow-host run | $(mib "$IDLE_RSS_KB") | < 20 MB | $(verdict_lt "$IDLE_RSS_KB" 19531) |"

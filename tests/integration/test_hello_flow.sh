#!/usr/bin/env bash
# test_hello_flow.sh -- the README's first command serves examples/hello/flow.yml:
# it must start, answer the curl line the README prints, and stop on SIGTERM.
source "$(dirname "$0")/lib.sh"
"$HOST" run "$DF_SOURCE_DIR/examples/hello/flow.yml" --port 0 >"$TMP/run.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 100); do
    port=$(grep -o 'ready on http://127.0.0.1:[0-9]*' "$TMP/run.log" | sed 's/.*://')
    [ -n "$port" ] && break
    sleep 0.1
done
check "the example flow starts" test -n "$port"
curl -s "localhost:$port/post" -H 'content-type: application/json' \
    -d '{"execEndpoint":"/index","data":[{"text":"hello"}],"parameters":{}}' >"$TMP/resp.json"
pycheck "the README's curl line gets the echoed document" "$TMP/resp.json" '
r = lines[0]
assert r["header"]["status"] is None, r
assert r["data"][0]["text"] == "echo: hello", r
assert r["parameters"]["__results__"]["echo"]["indexed"] == 1, r
'
kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM stops it cleanly (exit 0)" test "$rc" -eq 0
finish

#!/usr/bin/env bash
# test_hello.sh -- `docflow-host hello`: the digits indexed and searched
# through the real flow give precision@1 > 0.9, the figures agree with the
# report, the report renders in headless Chromium with its images, reruns
# give the same results, --serve answers a search, and errors are clear.
source "$(dirname "$0")/lib.sh"

W="$TMP/work"
run_host hello --workdir "$W"
expect_rc "hello runs" 0
cp "$TMP/out" "$TMP/hello.out"
cat "$TMP/hello.out"

# precision@1 as printed: a real result of the pipeline, not a constant.
p1=$(sed -n 's/^ *precision@1 *\([0-9.]*\)$/\1/p' "$TMP/hello.out")
check "precision@1 is printed" test -n "$p1"
check "precision@1 > 0.9 (got '$p1')" python3 -c "import sys; assert float(sys.argv[1]) > 0.9" "${p1:-0}"
check "precision@5, time and docs/s are printed" \
    grep -qE '^  precision@5 +0\.[0-9]+$' "$TMP/hello.out"
check "docs/s and time" grep -qE 'indexed +1617 images in .* docs/s' "$TMP/hello.out"
check "time taken" grep -qE '^time taken: [0-9.]+ s$' "$TMP/hello.out"

R="$W/hello-report.html"
check "the report exists" test -s "$R"
check "the workspace holds the flow" test -s "$W/hello-workspace/flow.yml"

# One block per query (180: every 10th image), each with k = 5 matches; the
# precision recomputed from the labels in the report equals the printed one.
cat >"$TMP/report_check.py" <<'EOF'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
k, queries, printed = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
blocks = re.findall(r'<div class="query" id="(digit-\d+)">(.*?)</div>\n', html)
assert len(blocks) == queries, f"{len(blocks)} query blocks, expected {queries}"
assert len(set(b[0] for b in blocks)) == queries, "duplicate query blocks"
hits1 = 0
for qid, body in blocks:
    q = re.search(r'<figure class="q"><img alt="" src="data:image/png;base64,[A-Za-z0-9+/=]+">'
                  r'<figcaption><b>query</b><br>label (\d)</figcaption>', body)
    assert q, f"{qid}: no query image"
    ms = re.findall(r'<figure class="match (hit|miss)"><img alt="" src="data:image/png;base64,'
                    r'[A-Za-z0-9+/=]{100,}"><figcaption><b>(\d)</b>[^<]*<br>([0-9.]+)</figcaption>',
                    body)
    assert len(ms) == k, f"{qid}: {len(ms)} matches, expected {k}"
    for cls, label, score in ms:
        assert (cls == "hit") == (label == q.group(1)), f"{qid}: hit/miss disagrees with labels"
    scores = [float(s) for _, _, s in ms]
    assert scores == sorted(scores), f"{qid}: cosine distances not ascending: {scores}"
    hits1 += ms[0][1] == q.group(1)
p1 = hits1 / queries
assert abs(p1 - printed) < 1e-3, f"precision@1 from the report {p1}, printed {printed}"
assert "<table>" in html and "precision@1" in html and "CC BY 4.0" in html
EOF
check "the report: one block per query with k matches, agreeing with the figures" \
    python3 "$TMP/report_check.py" "$R" 5 180 "${p1:-0}"

# Reruns are deterministic: the workspace is emptied, the results are equal.
sed -n '/<div class="queries">/,/^<h2>The flow/p' "$R" >"$TMP/blocks1"
run_host hello --workdir "$W"
expect_rc "a rerun in the same workdir" 0
sed -n '/<div class="queries">/,/^<h2>The flow/p' "$R" >"$TMP/blocks2"
check "a rerun gives the same matches" cmp -s "$TMP/blocks1" "$TMP/blocks2"
check "a rerun starts from an empty index" grep -qE 'shards: [0-9]+ \+ [0-9]+\)' "$TMP/out"
check "the shards hold the 1617 images" python3 -c "
import re, sys
a, b = map(int, re.search(r'shards: (\d+) \+ (\d+)\)', open(sys.argv[1]).read()).groups())
assert a + b == 1617, (a, b)" "$TMP/out"

# Other k and query counts, and PCA fitted on /fit first.
run_host hello --workdir "$TMP/pca" --dim 16 --k 3 --queries 60
expect_rc "hello --dim 16 --k 3 --queries 60" 0
p1=$(sed -n 's/^ *precision@1 *\([0-9.]*\)$/\1/p' "$TMP/out")
check "PCA: precision@1 > 0.9 (got '$p1')" python3 -c "import sys; assert float(sys.argv[1]) > 0.9" "${p1:-0}"
check "PCA: the flow says so" grep -q 'PCA fitted on /fit' "$TMP/out"
check "PCA: 60 blocks of 3 matches" \
    python3 "$TMP/report_check.py" "$TMP/pca/hello-report.html" 3 60 "${p1:-0}"

# Errors.
run_host hello --k 0
expect_rc "--k 0 is bad usage" 2
expect_err "--k 0 says the range" "--k: expected a whole number in 1..100"
run_host hello --workdir "$TMP/e1" --data "$TMP/missing.csv.gz"
expect_rc "a missing data file" 1
expect_err "the missing file is named" "missing.csv.gz"
printf '1,2,3\n' | gzip >"$TMP/short.csv.gz"
run_host hello --workdir "$TMP/e2" --data "$TMP/short.csv.gz"
expect_rc "a malformed data file" 1
expect_err "the bad line is named" "short.csv.gz:1: 3 values, expected 65"
mkdir -p "$TMP/e3/hello-workspace" && touch "$TMP/e3/hello-workspace/keep"
run_host hello --workdir "$TMP/e3"
expect_rc "a hello-workspace that is not ours is not removed" 1
check "... and stays" test -f "$TMP/e3/hello-workspace/keep"
expect_err "... saying why" "was not made by docflow-host hello"

# The report in a real browser: Debian's headless Chromium (tools/install-deps.sh).
if ! command -v chromium >/dev/null 2>&1; then
    fail "chromium is not installed: run tools/install-deps.sh (Debian's chromium package)"
else
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$TMP/chrome" --screenshot="$TMP/shot.png" --window-size=1200,2000 \
        "file://$R" >"$TMP/chrome.log" 2>&1
    check "chromium renders the report (see $TMP/chrome.log)" test -s "$TMP/shot.png"
    cat >"$TMP/png_check.py" <<'EOF'
# Decodes the screenshot (8-bit RGB or RGBA PNG, standard library only) and
# checks that it is not blank: the digit images are many grey pixels, dark
# ones among them, and the match borders are green and red.
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR": ihdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT": idat += body
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = ihdr
assert depth == 8 and ctype in (2, 6) and interlace == 0, ihdr
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
rows, prev, off = [], bytearray(stride), 0
for y in range(h):
    f, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
    off += 1 + stride
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
colours, non_white, dark_grey, green, red = set(), 0, 0, 0, 0
for line in rows:
    for x in range(0, stride, bpp):
        r, g, b = line[x], line[x + 1], line[x + 2]
        colours.add((r, g, b))
        if (r, g, b) != (255, 255, 255): non_white += 1
        if r == g == b and r < 96: dark_grey += 1
        if abs(r - 0x2e) < 12 and abs(g - 0x9d) < 12 and abs(b - 0x44) < 12: green += 1
        if abs(r - 0xd9) < 12 and abs(g - 0x41) < 12 and abs(b - 0x2b) < 12: red += 1
total = w * h
print(f"screenshot {w}x{h}: {len(colours)} colours, {100 * non_white / total:.1f}% non-white, "
      f"{dark_grey} dark grey, {green} green, {red} red pixels")
assert len(colours) >= 64, "too few colours: blank or broken page"
assert non_white > total // 10, "mostly white: the images are missing"
assert dark_grey > 20000, "too few dark grey pixels: the digit images are missing"
assert green > 5000, "no green match borders"
EOF
    check "the screenshot shows the report's images (not blank)" python3 "$TMP/png_check.py" "$TMP/shot.png"
fi

# --serve: the same flow behind the gateway answers a search, then stops on SIGTERM.
"$HOST" hello --workdir "$TMP/serve" --serve --port 0 >"$TMP/serve.out" 2>"$TMP/serve.err" &
pid=$!
port=""
for _ in $(seq 1 200); do
    port=$(grep -o 'ready on http://127.0.0.1:[0-9]*' "$TMP/serve.err" | sed 's/.*://')
    [ -n "$port" ] && break
    sleep 0.1
done
check "hello --serve starts the gateway" test -n "$port"
check "hello --serve prints how to query it" grep -q "curl -s 127.0.0.1:\$PORT/post" "$TMP/serve.out"
if [ -n "$port" ]; then
    # The curl line it printed, with the port filled in.
    line=$(grep '^curl -s' "$TMP/serve.out" | sed "s/\$PORT/$port/")
    bash -c "$line" >"$TMP/search.json"
    pycheck "the printed search gets 5 matches of label 0 with cosine scores" "$TMP/search.json" '
r = lines[0]
assert r["header"]["status"] is None, r["header"]
m = r["data"][0]["matches"]
assert len(m) == 5, len(m)
assert sum(x["tags"]["label"] == 0 for x in m) >= 4, [x["tags"] for x in m]
assert all("cosine" in x["scores"] for x in m)
'
    # /evaluate: the search result, labelled, goes to the Evaluator.
    python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
d = r['data'][0]
d['tags'] = {'label': 0}
json.dump({'execEndpoint': '/evaluate', 'data': [d], 'parameters': {}}, open(sys.argv[2], 'w'))
" "$TMP/search.json" "$TMP/eval_req.json"
    curl -s "127.0.0.1:$port/post" -H 'content-type: application/json' -d @"$TMP/eval_req.json" \
        >"$TMP/eval.json"
    pycheck "/evaluate on the served flow gives precision@5 and recall@5" "$TMP/eval.json" '
r = lines[0]
assert r["header"]["status"] is None, r["header"]
e = r["parameters"]["__results__"]["evaluator"]
assert e["docs"] == 1 and e["precision@5"] >= 0.8 and 0 < e["recall@5"] < 0.1, e
'
fi
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
check "SIGTERM stops hello --serve cleanly (exit $rc)" test "$rc" -eq 0
finish

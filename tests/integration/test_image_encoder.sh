#!/usr/bin/env bash
# test_image_encoder.sh -- the ImageEncoder built-in through `docflow-host
# call`: every image format the JSON form carries (base64 blob, nested-list
# tensor, dense tensors of |u1, <f8, <i8), /fit in several requests, the
# fit kept in the workspace for later processes, the projection checked
# against an independent power iteration in Python, and the user errors.
source "$(dirname "$0")/lib.sh"
CFG="$DF_SOURCE_DIR/plugins/image-encoder/config.yml" # 8 x 8 -> PCA dim 16
WS="$TMP/ws"

python3 - "$TMP" <<'PY'
import base64, json, math, random, struct, sys
tmp = sys.argv[1]
ramp = list(range(64))

def dense(values, fmt, dtype):
    buf = struct.pack("<%d%s" % (len(values), fmt), *values)
    return {"dense": {"buffer": base64.b64encode(buf).decode(), "shape": [8, 8], "dtype": dtype}}

formats = [
    {"id": "blob", "blob": base64.b64encode(bytes(ramp)).decode()},
    {"id": "nested", "tensor": [ramp[r * 8:(r + 1) * 8] for r in range(8)]},
    {"id": "u1", "tensor": dense(ramp, "B", "|u1")},
    {"id": "f8", "tensor": dense([float(v) for v in ramp], "d", "<f8")},
    {"id": "i8", "tensor": dense(ramp, "q", "<i8")},
]
with open(f"{tmp}/formats.jsonl", "w") as f:
    f.writelines(json.dumps(d) + "\n" for d in formats)

# images = 60 + a * u + b * v + noise: u dominates, so a power iteration
# finds it quickly and surely
rng = random.Random(11)
u = [math.sin(i / 5.0) for i in range(64)]
v = [math.cos(i / 3.0) * (1 if i % 2 else -1) for i in range(64)]
def image():
    a, b = rng.gauss(0, 20), rng.gauss(0, 6)
    return [max(0, min(255, round(60 + a * u[i] + b * v[i] + rng.gauss(0, 1)))) for i in range(64)]
def write(name, n):
    with open(f"{tmp}/{name}.jsonl", "w") as f:
        for k in range(n):
            f.write(json.dumps({"id": f"{name}{k}", "blob": base64.b64encode(bytes(image())).decode()}) + "\n")
write("train", 200)
write("query", 5)
PY

# --- flattening: every format gives the same normalised pixels ---------------
run_host call "$CFG" --on /index --input "$TMP/formats.jsonl" --with dim=0
expect_rc "flatten exit" 0
pycheck "every format embeds the same" "$TMP/out" '
import math
norm = math.sqrt(sum(i * i for i in range(64)))
assert [d["id"] for d in lines] == ["blob", "nested", "u1", "f8", "i8"]
for d in lines:
    e = d["embedding"]
    assert len(e) == 64, d["id"]
    assert all(abs(e[i] - i / norm) < 1e-6 for i in range(64)), d["id"]
'

# --- PCA: /search before /fit says what to do -------------------------------------
run_host call "$CFG" --on /search --input "$TMP/query.jsonl" --workspace "$WS"
expect_rc "search before fit exit" 1
expect_err "search before fit message" "no PCA fit yet"
expect_err "search before fit says what to do" "/fit first"

# --- /fit in four requests: the statistics accumulate -----------------------------
run_host call "$CFG" --on /fit --input "$TMP/train.jsonl" --workspace "$WS" --request-size 50 \
    --results "$TMP/fit-results.jsonl"
expect_rc "fit exit" 0
pycheck "fit results per request" "$TMP/fit-results.jsonl" '
r = [l["__results__"]["image_encoder"] for l in lines]
assert [x["samples"] for x in r] == [50, 100, 150, 200], r
assert all(x["dim"] == 16 and x["pixels"] == 64 for x in r), r
assert 0.9 < r[-1]["explained_variance_ratio"] <= 1.0, r
'
check "the fit is in the workspace" test -s "$WS/image_encoder/pca.bin"
pycheck "fit embeds the training images" "$TMP/out" '
import math
assert len(lines) == 200
assert all(abs(math.sqrt(sum(x * x for x in d["embedding"])) - 1) < 1e-5 for d in lines)
assert all(len(d["embedding"]) == 16 for d in lines)
'

# --- later processes load the fit -------------------------------------------------------
run_host call "$CFG" --on /search --input "$TMP/query.jsonl" --workspace "$WS" --output "$TMP/q1.jsonl"
expect_rc "search after restart exit" 0
run_host call "$CFG" --on /search --input "$TMP/query.jsonl" --workspace "$WS" --output "$TMP/q2.jsonl"
check "same embeddings in every process" cmp -s "$TMP/q1.jsonl" "$TMP/q2.jsonl"

# --- the projection, checked against a power iteration -----------------------------------
# Without normalisation the first coordinate is (x - mean) . c1, where c1 is
# the covariance's top eigenvector with its largest coordinate positive.
run_host call "$CFG" --on /search --input "$TMP/query.jsonl" --workspace "$WS" --with normalize=false
expect_rc "unnormalised search exit" 0
pycheck "first coordinate is the projection on the top component" "$TMP/out" "
import base64, math
train = [list(base64.b64decode(json.loads(l)['blob'])) for l in open('$TMP/train.jsonl')]
query = [list(base64.b64decode(json.loads(l)['blob'])) for l in open('$TMP/query.jsonl')]
n, p = len(train), 64
mean = [sum(x[i] for x in train) / n for i in range(p)]
cen = [[x[i] - mean[i] for i in range(p)] for x in train]
cov = [[sum(c[i] * c[j] for c in cen) / (n - 1) for j in range(p)] for i in range(p)]
vec = [1.0] * p
for _ in range(300):
    w = [sum(cov[i][j] * vec[j] for j in range(p)) for i in range(p)]
    norm = math.sqrt(sum(x * x for x in w))
    vec = [x / norm for x in w]
big = max(range(p), key=lambda i: abs(vec[i]))
if vec[big] < 0: vec = [-x for x in vec]
for d, q in zip(lines, query):
    want = sum((q[i] - mean[i]) * vec[i] for i in range(p))
    got = d['embedding'][0]
    assert abs(got - want) < 1e-3 * max(1.0, abs(want)), (d['id'], got, want)
"

# --- errors -----------------------------------------------------------------------------
printf '{"id": "small", "blob": "%s"}\n' "$(head -c 60 /dev/zero | base64 -w0)" >"$TMP/small.jsonl"
run_host call "$CFG" --on /index --input "$TMP/small.jsonl" --with dim=0
expect_rc "wrong image size exit" 1
expect_err "wrong image size names the document" "document 'small': blob of 60 bytes, expected 64"

echo '{"id": "prose", "text": "not an image"}' >"$TMP/text.jsonl"
run_host call "$CFG" --on /index --input "$TMP/text.jsonl" --with dim=0
expect_rc "text document exit" 1
expect_err "text document named" "document 'prose' holds text"

run_host call "$CFG" --on /index --input "$TMP/query.jsonl" --with dim=65
expect_rc "dim above the pixel count exit" 2
expect_err "dim above the pixel count message" "with.dim must be in 0..64"

run_host call "$CFG" --on /index --input "$TMP/query.jsonl" --with height=0
expect_rc "missing size exit" 2
expect_err "missing size message" "with.height and with.width are required"

finish

#!/usr/bin/env bash
# test_evaluator.sh -- the Evaluator built-in through `docflow-host call
# --groundtruths`: rank metrics by id and by position, by label tag, the
# embedding distances, evaluations in the output documents, means in the
# results, pass-through of other endpoints, and the user errors.
source "$(dirname "$0")/lib.sh"
CFG="$DF_SOURCE_DIR/plugins/evaluator/config.yml"

# q1: matches a x b y c, relevant {a b c d}; q2: matches x y a, relevant {a}
# (the hand-computed case of tests/unit/test_evaluator.c). Groundtruths in
# another order: by id, order does not matter.
cat >"$TMP/docs.jsonl" <<'EOF'
{"id": "q1", "matches": [{"id": "a"}, {"id": "x"}, {"id": "b"}, {"id": "y"}, {"id": "c"}]}
{"id": "q2", "matches": [{"id": "x"}, {"id": "y"}, {"id": "a"}]}
EOF
cat >"$TMP/gt.jsonl" <<'EOF'
{"id": "q2", "matches": [{"id": "a"}]}
{"id": "q1", "matches": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}]}
EOF

# --- by id, k from the parameters ----------------------------------------------
run_host call "$CFG" --on /evaluate --input "$TMP/docs.jsonl" --groundtruths "$TMP/gt.jsonl" \
    --parameters '{"k": 3}' --results "$TMP/results.jsonl"
expect_rc "by id exit" 0
pycheck "means in the results" "$TMP/results.jsonl" '
r = lines[0]["__results__"]["evaluator"]
want = {"precision@3": 0.5, "recall@3": 0.75, "reciprocal_rank": 2 / 3, "ndcg@3": 0.601959, "docs": 2}
assert set(r) == set(want), r
assert all(abs(r[k] - v) < 1e-5 for k, v in want.items()), r
'
pycheck "evaluations in every document" "$TMP/out" '
q1 = lines[0]["evaluations"]
assert abs(q1["precision@3"]["value"] - 2 / 3) < 1e-6, q1
assert q1["precision@3"]["op_name"] == "precision@3", q1
assert q1["recall@3"]["ref_id"] == "q1", q1
assert abs(lines[1]["evaluations"]["reciprocal_rank"]["value"] - 1 / 3) < 1e-6
assert [m["id"] for m in lines[0]["matches"]] == ["a", "x", "b", "y", "c"]
'

# --- by position: the groundtruths ids do not matter, their order does -------------
python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
gt = [json.loads(l) for l in open(f"{tmp}/gt.jsonl")]
gt = [gt[1], gt[0]]
for i, g in enumerate(gt):
    g["id"] = f"truth-{i}"
with open(f"{tmp}/gt-by-position.jsonl", "w") as f:
    f.writelines(json.dumps(g) + "\n" for g in gt)
PY
run_host call "$CFG" --on /evaluate --input "$TMP/docs.jsonl" --groundtruths "$TMP/gt-by-position.jsonl" \
    --with match_by=position --with k=3 --results "$TMP/results.jsonl"
expect_rc "by position exit" 0
pycheck "by position gives the same means" "$TMP/results.jsonl" '
r = lines[0]["__results__"]["evaluator"]
assert abs(r["precision@3"] - 0.5) < 1e-6 and abs(r["ndcg@3"] - 0.601959) < 1e-5, r
'

# --- by label: no groundtruths; fixed cut-offs ------------------------------------------
cat >"$TMP/labelled.jsonl" <<'EOF'
{"id": "q", "tags": {"label": 3}, "matches": [{"id": "m0", "tags": {"label": 3}}, {"id": "m1", "tags": {"label": 1}}, {"id": "m2", "tags": {"label": 3}}, {"id": "m3", "tags": {"label": "3"}}]}
{"id": "r", "tags": {"label": 1}, "matches": [{"id": "m4", "tags": {"label": 3}}, {"id": "m5", "tags": {"label": 1}}]}
EOF
run_host call "$CFG" --on /search --input "$TMP/labelled.jsonl" --with label_tag=label \
    --with 'metrics=[precision@1, precision@4, reciprocal_rank, recall_at_k]' --with k=4 \
    --parameters '{"label_counts": {"3": 10, "1": 2}}' --results "$TMP/results.jsonl"
expect_rc "by label exit" 0
pycheck "by label: a string 3 is not the number 3" "$TMP/results.jsonl" '
r = lines[0]["__results__"]["evaluator"]
# q: hits 1 0 1 0 (R = 10); r: hits 0 1 (R = 2)
want = {"precision@1": 0.5, "precision@4": (0.5 + 0.5) / 2, "reciprocal_rank": (1 + 0.5) / 2,
        "recall@4": (0.2 + 0.5) / 2, "docs": 2}
assert set(r) == set(want), r
assert all(abs(r[k] - v) < 1e-6 for k, v in want.items()), r
'

# --- embedding distances (Jina's EuclideanEvaluator) ----------------------------------------
echo '{"id": "e", "embedding": [3, 4]}' >"$TMP/emb.jsonl"
echo '{"id": "e", "embedding": [0, 0]}' >"$TMP/emb-gt.jsonl"
run_host call "$CFG" --on /evaluate --input "$TMP/emb.jsonl" --groundtruths "$TMP/emb-gt.jsonl" \
    --with 'metrics=[euclidean, cosine]' --results "$TMP/results.jsonl"
expect_rc "embedding exit" 0
pycheck "euclidean and cosine" "$TMP/results.jsonl" '
r = lines[0]["__results__"]["evaluator"]
assert r == {"euclidean": 5, "cosine": 1, "docs": 1}, r
'

# --- other endpoints pass through -------------------------------------------------------
run_host call "$CFG" --on /index --input "$TMP/docs.jsonl"
expect_rc "index passes through exit" 0
pycheck "index leaves documents alone" "$TMP/out" 'assert all("evaluations" not in d for d in lines)'

# --- errors -------------------------------------------------------------------------------
run_host call "$CFG" --on /evaluate --input "$TMP/docs.jsonl"
expect_rc "no groundtruths exit" 1
expect_err "no groundtruths says how to send them" "docflow-host call --groundtruths FILE"

head -n1 "$TMP/gt.jsonl" >"$TMP/gt-one.jsonl"
run_host call "$CFG" --on /evaluate --input "$TMP/docs.jsonl" --groundtruths "$TMP/gt-one.jsonl"
expect_rc "missing groundtruth exit" 1
expect_err "missing groundtruth names the document" "no groundtruth for document 'q1'"

run_host call "$CFG" --on /evaluate --input "$TMP/docs.jsonl" --groundtruths "$TMP/gt.jsonl" \
    --parameters '{"k": 0}'
expect_rc "k = 0 parameter exit" 1
expect_err "k = 0 parameter message" "parameters.k must be >= 1"

run_host call "$CFG" --on /evaluate --input "$TMP/docs.jsonl" --groundtruths "$TMP/gt.jsonl" --with k=-1
expect_rc "negative with.k exit" 2
expect_err "negative with.k message" "with.k must be >= 1"

run_host call "$CFG" --on /evaluate --input "$TMP/docs.jsonl" --groundtruths "$TMP/gt.jsonl" \
    --with 'metrics=[accuracy]'
expect_rc "unknown metric exit" 2
expect_err "unknown metric lists the known ones" "unknown metric 'accuracy' (known: precision_at_k"

finish

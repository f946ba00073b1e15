#!/usr/bin/env bash
# test_examples.sh -- the flows under examples/ and the README's flow
# commands keep working: validate, plot and post --flow on each.
source "$(dirname "$0")/lib.sh"
INPUT="$DF_SOURCE_DIR/examples/hello/docs.jsonl"
for flow in "$DF_SOURCE_DIR"/examples/flows/*.yml; do
    name=$(basename "$flow")
    run_host validate "$flow"
    expect_rc "$name validates" 0
    run_host plot "$flow" --format mermaid
    expect_rc "$name plots" 0
    run_host post --flow "$flow" --on /index --input "$INPUT" --request-size 2 --concurrency 4
    expect_rc "$name posts" 0
done

# join.yml: the join merges both branches by id, left-most first: upper's
# text wins, echo's tags are added.
run_host post --flow "$DF_SOURCE_DIR/examples/flows/join.yml" --on /index --input "$INPUT"
pycheck "join.yml merges branches by id" "$TMP/out" "
src = [json.loads(l) for l in open('$INPUT', encoding='utf-8')]
ascii_upper = lambda t: ''.join(c.upper() if c.isascii() else c for c in t)
assert [d['text'] for d in lines] == [ascii_upper(d['text']) for d in src], lines
assert all(d['tags']['echoed'] is True for d in lines)
"
expect_err "summary line" "posted 4 documents"
finish

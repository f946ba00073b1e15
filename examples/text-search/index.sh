#!/bin/sh
# index.sh -- sends Markdown files to the text-search flow served at URL: first
# /fit with reset (the encoder learns which words are common in exactly these
# files, so running it again counts nothing twice), then /index (every sentence
# is stored; sentences of a file indexed before are replaced, not copied). Each
# file is one document: id and tags.file are its path relative to the
# repository root. --no-fit skips /fit: for adding files to an index without
# changing the IDF the stored sentences were encoded with. Needs curl and
# python3 (to build the JSON).
#
#   examples/text-search/index.sh http://127.0.0.1:12345               # README.md, docs/*.md
#   examples/text-search/index.sh --no-fit http://127.0.0.1:12345 a.md # add a file
set -eu
fit=1
if [ "${1:-}" = --no-fit ]; then
    fit=0
    shift
fi
url=${1:?usage: index.sh [--no-fit] URL [FILE.md...]}
url=${url%/}
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -gt 0 ] || set -- "$root/README.md" "$root"/docs/*.md
body=$(mktemp)
answer=$(mktemp)
trap 'rm -f "$body" "$answer"' EXIT

# {"data": [{"id": "docs/hub.md", "text": "...", "tags": {"file": "docs/hub.md"}}, ...],
#  "parameters": {"reset": true}}   (read by /fit only)
python3 - "$root" "$@" >"$body" <<'PY'
import json, os, sys
root, files = sys.argv[1], sys.argv[2:]
docs = []
for path in files:
    name = os.path.relpath(os.path.abspath(path), root)
    with open(path, encoding="utf-8") as f:
        docs.append({"id": name, "text": f.read(), "tags": {"file": name}})
json.dump({"data": docs, "parameters": {"reset": True}}, sys.stdout)
PY

# post ENDPOINT: sends the documents; prints the executors' __results__.
post() {
    curl -sS --fail-with-body -o "$answer" -H 'Content-Type: application/json' \
        --data-binary @"$body" "$url/$1" || { cat "$answer" >&2; exit 1; }
    python3 -c '
import json, sys
answer = json.load(open(sys.argv[1]))
print(sys.argv[2] + ":", json.dumps(answer.get("parameters", {}).get("__results__", {})))
' "$answer" "/$1"
}
[ "$fit" -eq 0 ] || post fit
post index

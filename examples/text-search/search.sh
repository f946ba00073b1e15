#!/bin/sh
# search.sh -- asks the text-search flow served at URL for the sentences
# closest to a query, and prints them best first: cosine distance (smaller is
# closer), file, sentence. Needs curl and python3.
#
#   examples/text-search/search.sh http://127.0.0.1:12345 "io_uring gateway" [LIMIT]
set -eu
url=${1:?usage: search.sh URL QUERY [LIMIT]}
query=${2:?usage: search.sh URL QUERY [LIMIT]}
limit=${3:-5}
python3 -c 'import json, sys; print(json.dumps({"data": [{"text": sys.argv[1]}],
                                                "parameters": {"limit": int(sys.argv[2])}}))' \
    "$query" "$limit" |
    curl -sS --fail-with-body -H 'Content-Type: application/json' --data-binary @- "${url%/}/search" |
    python3 -c '
import json, sys
for match in json.load(sys.stdin)["data"][0].get("matches", []):
    score = match["scores"]["cosine"]["value"]
    where = match.get("tags", {}).get("file", match.get("parent_id", ""))
    text = " ".join(match["text"].split())
    print(f"{score:.3f}  {where:<28} {text[:100]}")
'

#!/usr/bin/env bash
# extract-doc-snippets.sh -- writes the marked code blocks of a Markdown file
# to a folder, so tests can compile, run and compare them and the docs
# cannot rot. Not a Markdown parser: it only knows the two markers below.
#
# usage: tools/extract-doc-snippets.sh DOC.md OUTDIR
#
# Markers (an HTML comment on the line right above an opening ``` fence):
#   <!-- snippet: NAME -->   the block goes to OUTDIR/NAME. Blocks with the
#                            same NAME are appended in document order, so a
#                            file can be built up across several sections.
#   <!-- file: PATH -->      the block must equal PATH (relative to the source
#                            tree); it goes to OUTDIR/files/PATH for the test
#                            to compare.
# Every ```c block must carry a marker: a C block nobody compiles is an error.
# C snippets (NAME.c, NAME.h) get #line directives, so compiler messages
# point into DOC.md. OUTDIR/INDEX lists "KIND NAME DOC:LINE" for every block written.
#
# Exit status: 0, or 1 with "DOC:LINE: problem" lines on stderr.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 DOC.md OUTDIR" >&2
    exit 2
fi
doc=$1
out=$2
[[ -f $doc ]] || { echo "$0: $doc: no such file" >&2; exit 1; }
# A stale OUTDIR would silently feed old blocks to the appending writes.
if [[ -e $out ]] && [[ -n $(ls -A "$out") ]]; then
    echo "$0: $out exists and is not empty" >&2
    exit 1
fi
mkdir -p "$out/files"

awk -v out="$out" -v doc="$doc" '
function problem(msg) { printf "%s:%d: %s\n", doc, FNR, msg > "/dev/stderr"; bad = 1 }
function safe(path) { return path !~ /^\// && path !~ /(^|\/)\.\.(\/|$)/ && path != "" }

# Inside a marked block: copy lines until the closing fence.
in_block {
    if ($0 ~ /^```[ \t]*$/) { in_block = 0; close(target); next }
    print >> target
    next
}
# Inside an unmarked block: skip it whole (it may contain marker-like text).
in_other { if ($0 ~ /^```[ \t]*$/) in_other = 0; next }

pending != "" {
    if ($0 !~ /^```/) { problem("a " pending_kind " marker must be followed by a ``` fence"); pending = ""; next }
    target = pending
    printf "%s %s %s:%d\n", pending_kind, pending_name, doc, FNR >> (out "/INDEX")
    # C compilers then report errors at the line of the doc, not the snippet.
    if (pending_kind == "snippet" && pending_name ~ /\.[ch]$/) printf "#line %d \"%s\"\n", FNR + 1, doc >> target
    pending = ""
    in_block = 1
    next
}

/^<!-- (snippet|file): [^ ]+ -->[ \t]*$/ {
    kind = ($2 == "snippet:") ? "snippet" : "file"
    name = $3
    if (!safe(name)) { problem("bad " kind " name \"" name "\""); next }
    if (kind == "snippet") {
        if (name ~ /\//) { problem("a snippet name is a file name, not a path: \"" name "\""); next }
        pending = out "/" name
    } else {
        if (name in seen_file) { problem("file " name " is included twice"); next }
        seen_file[name] = 1
        dir = name; sub(/\/[^\/]*$/, "", dir)
        if (dir != name) system("mkdir -p \"" out "/files/" dir "\"")
        pending = out "/files/" name
        printf "" > pending; close(pending)
    }
    pending_kind = kind
    pending_name = name
    next
}

/^```c[ \t]*$/ { problem("a ```c block without a <!-- snippet: NAME.c --> marker is never compiled"); in_other = 1; next }
/^```/ { in_other = 1; next }

END {
    if (in_block) problem("unterminated ``` block")
    if (pending != "") problem("marker at the end of the file")
    exit bad
}
' "$doc"

#!/usr/bin/python3
"""check_docs.py -- decodes a DocumentArrayProto with the reference protobuf
implementation (Google's python3-protobuf) and compares it field by field
with a description in make_fixture.py's format. The reverse direction of the
interop test: bytes docflow wrote must read back in Python exactly.

Usage: check_docs.py BYTES.bin EXPECTED.json
Exit status: 0 when every field matches, 1 on any difference (each one is
printed with its path), 2 when the input cannot be read or parsed.
"""
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixture  # noqa: E402  (shares the description format)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    bin_path, json_path = sys.argv[1], sys.argv[2]
    pb2 = make_fixture.load_pb2()
    with open(bin_path, "rb") as f:
        data = f.read()
    with open(json_path, encoding="utf-8") as f:
        want = json.load(f)
    arr = pb2.DocumentArrayProto()
    try:
        arr.ParseFromString(data)
        got = make_fixture.describe(arr)
    except Exception as e:  # a parse error is a failed check, with its reason
        print("check_docs: %s: cannot decode as DocumentArrayProto: %s" % (bin_path, e))
        return 2
    diffs = make_fixture.differences(want, got)
    if diffs:
        print("check_docs: %s differs from %s in %d place(s):" % (bin_path, json_path, len(diffs)))
        for d in diffs:
            print("  " + d)
        return 1
    print("check_docs: %s matches %s (%d bytes, %d docs)" %
          (bin_path, json_path, len(data), len(arr.docs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

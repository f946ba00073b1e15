#!/usr/bin/python3
"""make_fixture.py -- writes the DocArray v1 interop fixture with the reference
protobuf implementation (Google's python3-protobuf), so docflow's decoder is
tested against bytes it did not write.

Outputs, next to this script (both committed, regenerate only on purpose):
  docarray_v1.bin            a DocumentArrayProto with every field set
  docarray_v1.expected.json  the same documents described field by field

The description format (also what check_docs.py compares against): a
document is a JSON object holding only its set fields; "blob_hex" is the
blob in hex; an ndarray is {"dtype", "shape", "values" (flat, C order),
"cls_name"?, "parameters"?}; tags / _metadata are the Struct as JSON;
scores / evaluations map a name to {"value", "op_name"?, "description"?,
"ref_id"?}. Every float32 value in here is exact in float32, so both
sides compare with ==.

Usage: make_fixture.py [--check]   (--check: verify, do not write)
Needs /usr/bin/protoc and python3-protobuf (tools/install-deps.sh).
"""
import importlib
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
PROTO_DIR = os.path.join(SOURCE_DIR, "plugin-api", "proto")
BIN_PATH = os.path.join(HERE, "docarray_v1.bin")
JSON_PATH = os.path.join(HERE, "docarray_v1.expected.json")

# numpy dtype string -> struct format of one element (no numpy needed).
DTYPE_FORMATS = {"<f4": "<f", "<f8": "<d", "<i8": "<q", "<i4": "<i", "|u1": "<B"}

UNICODE_TEXT = "Hello, wörld! Ünïcödé ✓ 你好 🚀"

FIXTURE = {
    "docs": [
        {
            "id": "doc-0",
            "text": UNICODE_TEXT,
            "granularity": 1,
            "adjacency": 2,
            "parent_id": "root",
            "weight": 1.5,
            "uri": "file:///data/a.txt",
            "modality": "text",
            "mime_type": "text/plain",
            "offset": 7.0,
            "location": [1.0, 2.5, -3.0],
            "embedding": {
                "dtype": "<f4",
                "shape": [4],
                "values": [0.25, -1.5, 3.0, 100.0],
                "cls_name": "numpy",
                "parameters": {"normalized": False, "model": "fixture-v1"},
            },
            "tags": {
                "null": None,
                "int": 42,
                "float": -0.125,
                "str": "ünï ✓",
                "true": True,
                "false": False,
                "nested": {"a": [1, "two", None, False, {"deep": [[]]}], "empty_map": {}},
                "list": [1.5, "x", [2, [3]]],
                "empty_list": [],
            },
            "_metadata": {"source": "make_fixture.py", "version": 1},
            "scores": {
                "cosine": {
                    "value": 0.875,
                    "op_name": "cosine",
                    "description": "cosine similarity",
                    "ref_id": "query-1",
                },
                "l2": {"value": 2.0},
            },
            "evaluations": {
                "precision@1": {
                    "value": 1.0,
                    "op_name": "precision",
                    "description": "p@1",
                    "ref_id": "query-1",
                }
            },
            "chunks": [
                {
                    "id": "doc-0/chunk-0",
                    "text": "Hello,",
                    "parent_id": "doc-0",
                    "granularity": 2,
                    "location": [0.0, 6.0],
                    "matches": [
                        {
                            "id": "doc-0/chunk-0/match-0",
                            "blob_hex": "00017f80feff",
                            "adjacency": 1,
                            "embedding": {"dtype": "<f4", "shape": [2], "values": [1.0, 2.0]},
                            "scores": {"cosine": {"value": 0.5, "ref_id": "doc-0/chunk-0"}},
                        }
                    ],
                },
                {
                    "id": "doc-0/chunk-1",
                    "tensor": {"dtype": "<i8", "shape": [3], "values": [1, -2, 3000000000]},
                    "parent_id": "doc-0",
                    "granularity": 2,
                    "offset": 1.0,
                },
            ],
            "matches": [
                {
                    "id": "match-0",
                    "tensor": {
                        "dtype": "<f8",
                        "shape": [2, 3],
                        "values": [1.0, 2.0, 3.0, 4.0, 5.0, 6.5],
                        "cls_name": "numpy",
                    },
                    "adjacency": 1,
                    "weight": 0.5,
                    "tags": {"rank": 1},
                    "scores": {"cosine": {"value": 0.75, "op_name": "cosine"}},
                }
            ],
        },
        {
            "id": "doc-1",
            "blob_hex": bytes(range(256)).hex(),
            "mime_type": "application/octet-stream",
            "embedding": {"dtype": "<f8", "shape": [2], "values": [-0.5, 1e-3]},
        },
        {
            "id": "doc-2",
            "tensor": {
                "dtype": "<f8",
                "shape": [2, 3],
                "values": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
            },
            "embedding": {"dtype": "<f4", "shape": [3], "values": [0.0, -0.0625, 8.0]},
            "tags": {"k": "v"},
        },
        {"id": "doc-3"},
    ]
}


def load_pb2():
    """Compiles docarray.proto with protoc into a temp dir and imports it."""
    sys.dont_write_bytecode = True
    with tempfile.TemporaryDirectory(prefix="docflow-pb2-") as out:
        subprocess.run(
            ["protoc", "-I" + PROTO_DIR, "-I/usr/include", "--python_out=" + out,
             os.path.join(PROTO_DIR, "docarray.proto")],
            check=True)
        sys.path.insert(0, out)
        try:
            return importlib.import_module("docarray_pb2")
        finally:
            sys.path.remove(out)


# ---- description -> protobuf ------------------------------------------------

def fill_struct(st, obj):
    st.update(obj)  # google.protobuf.Struct takes JSON-like dicts


def fill_ndarray(nd, desc):
    fmt = DTYPE_FORMATS[desc["dtype"]]
    nd.dense.buffer = b"".join(struct.pack(fmt, v) for v in desc["values"])
    nd.dense.shape.extend(desc["shape"])
    nd.dense.dtype = desc["dtype"]
    if "cls_name" in desc:
        nd.cls_name = desc["cls_name"]
    if "parameters" in desc:
        fill_struct(nd.parameters, desc["parameters"])


def fill_doc(pb, desc):
    for key in ("id", "parent_id", "uri", "modality", "mime_type", "text",
                "granularity", "adjacency", "weight", "offset"):
        if key in desc:
            setattr(pb, key, desc[key])
    if "blob_hex" in desc:
        pb.blob = bytes.fromhex(desc["blob_hex"])
    if "tensor" in desc:
        fill_ndarray(pb.tensor, desc["tensor"])
    if "embedding" in desc:
        fill_ndarray(pb.embedding, desc["embedding"])
    pb.location.extend(desc.get("location", []))
    for key in ("tags", "_metadata"):
        if key in desc:
            fill_struct(getattr(pb, key), desc[key])
    for key in ("scores", "evaluations"):
        for name, score in desc.get(key, {}).items():
            entry = getattr(pb, key)[name]
            for field, value in score.items():
                setattr(entry, field, value)
    for key in ("chunks", "matches"):
        for sub in desc.get(key, []):
            fill_doc(getattr(pb, key).add(), sub)


def build(pb2, fixture):
    arr = pb2.DocumentArrayProto()
    for desc in fixture["docs"]:
        fill_doc(arr.docs.add(), desc)
    return arr


# ---- protobuf -> description ------------------------------------------------

def value_to_obj(v):
    kind = v.WhichOneof("kind")
    if kind == "null_value" or kind is None:
        return None
    if kind == "number_value":
        return v.number_value
    if kind == "string_value":
        return v.string_value
    if kind == "bool_value":
        return v.bool_value
    if kind == "struct_value":
        return struct_to_obj(v.struct_value)
    return [value_to_obj(x) for x in v.list_value.values]


def struct_to_obj(st):
    return {k: value_to_obj(v) for k, v in st.fields.items()}


def describe_ndarray(nd, where):
    kind = nd.WhichOneof("content")
    if kind != "dense":
        raise ValueError("%s: expected a dense ndarray, got %s" % (where, kind))
    dtype = nd.dense.dtype
    fmt = DTYPE_FORMATS.get(dtype)
    if fmt is None:
        raise ValueError("%s: unexpected dtype %r" % (where, dtype))
    size = struct.calcsize(fmt)
    buf = nd.dense.buffer
    if len(buf) % size:
        raise ValueError("%s: buffer of %d bytes is not a multiple of %d" % (where, len(buf), size))
    out = {"dtype": dtype, "shape": list(nd.dense.shape),
           "values": [struct.unpack_from(fmt, buf, i)[0] for i in range(0, len(buf), size)]}
    if nd.cls_name:
        out["cls_name"] = nd.cls_name
    if nd.HasField("parameters"):
        out["parameters"] = struct_to_obj(nd.parameters)
    return out


def describe_doc(pb, where):
    out = {}
    for key in ("id", "parent_id", "uri", "modality", "mime_type",
                "granularity", "adjacency", "weight", "offset"):
        value = getattr(pb, key)
        if value:
            out[key] = value
    content = pb.WhichOneof("content")
    if content == "text":
        out["text"] = pb.text
    elif content == "blob":
        out["blob_hex"] = pb.blob.hex()
    elif content == "tensor":
        out["tensor"] = describe_ndarray(pb.tensor, where + ".tensor")
    if pb.HasField("embedding"):
        out["embedding"] = describe_ndarray(pb.embedding, where + ".embedding")
    if pb.location:
        out["location"] = list(pb.location)
    for key in ("tags", "_metadata"):
        if pb.HasField(key) and getattr(pb, key).fields:
            out[key] = struct_to_obj(getattr(pb, key))
    for key in ("scores", "evaluations"):
        scores = {}
        for name, s in getattr(pb, key).items():
            d = {"value": s.value}
            for field in ("op_name", "description", "ref_id"):
                if getattr(s, field):
                    d[field] = getattr(s, field)
            scores[name] = d
        if scores:
            out[key] = scores
    for key in ("chunks", "matches"):
        subs = [describe_doc(sub, "%s.%s[%d]" % (where, key, i))
                for i, sub in enumerate(getattr(pb, key))]
        if subs:
            out[key] = subs
    return out


def describe(arr):
    return {"docs": [describe_doc(d, "docs[%d]" % i) for i, d in enumerate(arr.docs)]}


def join(where, key):
    return "%s.%s" % (where, key) if where else key


def differences(want, got, where="", out=None):
    """Type-strict comparison (True is not 1, 1 is 1.0); returns the list of
    paths where `got` differs from `want`."""
    if out is None:
        out = []
    number = (int, float)
    if isinstance(want, bool) or isinstance(got, bool):
        if not (isinstance(want, bool) and isinstance(got, bool) and want == got):
            out.append("%s: want %r, got %r" % (where, want, got))
    elif isinstance(want, number) and isinstance(got, number):
        if float(want) != float(got):
            out.append("%s: want %r, got %r" % (where, want, got))
    elif isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got)):
            if key not in got:
                out.append("%s: missing" % join(where, key))
            elif key not in want:
                out.append("%s: unexpected %r" % (join(where, key), got[key]))
            else:
                differences(want[key], got[key], join(where, key), out)
    elif isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            out.append("%s: want %d items, got %d" % (where, len(want), len(got)))
        for i, (w, g) in enumerate(zip(want, got)):
            differences(w, g, "%s[%d]" % (where, i), out)
    elif type(want) is not type(got) or want != got:
        out.append("%s: want %r, got %r" % (where, want, got))
    return out


def main():
    check_only = "--check" in sys.argv[1:]
    pb2 = load_pb2()
    data = build(pb2, FIXTURE).SerializeToString(deterministic=True)
    parsed = pb2.DocumentArrayProto()
    parsed.ParseFromString(data)
    diffs = differences(FIXTURE, describe(parsed))
    if diffs:
        sys.exit("make_fixture: the fixture does not survive a round trip:\n  " +
                 "\n  ".join(diffs))
    text = json.dumps(FIXTURE, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if check_only:
        with open(BIN_PATH, "rb") as f:
            same_bin = f.read() == data
        with open(JSON_PATH, encoding="utf-8") as f:
            same_json = f.read() == text
        if not (same_bin and same_json):
            sys.exit("make_fixture: committed fixture differs from what this script writes")
        print("make_fixture: committed fixture is current")
        return
    with open(BIN_PATH, "wb") as f:
        f.write(data)
    with open(JSON_PATH, "w", encoding="utf-8") as f:
        f.write(text)
    print("make_fixture: wrote %s (%d bytes) and %s" % (BIN_PATH, len(data), JSON_PATH))


if __name__ == "__main__":
    main()

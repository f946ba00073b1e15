#!/usr/bin/env python3
"""make_bodies.py -- the request bodies of tools/gateway-bench.sh, built once.

    make_bodies.py PROTO_DIR OUT_DIR [--docs N] [--dim D]

Writes to OUT_DIR:
  one.json        a 1-document JSON request (Jina's HTTP shape):
                  {"execEndpoint": "/index", "data": [{"text": ...}], "parameters": {}}
  many.json       the same with N documents (default 100), each with a D-float
                  embedding (default 128) and a 50-character text
  many.pb         the same N documents as a jina.DataRequestProto (protobuf),
                  header.exec_endpoint = /index, embeddings as DenseNdArrayProto
                  (<f4, shape [D]), for Content-Type: application/x-protobuf
  many.count      N, for the documents/s figure

The Python modules come from PROTO_DIR (plugin-api/proto) through Debian's
protoc (--python_out) into OUT_DIR/py, and need Debian's python3-protobuf.
The floats are deterministic (a fixed-seed generator) and cover [-1, 1) at
full precision, as a real model's output does.
"""
import json
import os
import random
import struct
import subprocess
import sys


def main():
    args = sys.argv[1:]
    docs, dim = 100, 128
    pos = []
    i = 0
    while i < len(args):
        if args[i] == "--docs":
            docs = int(args[i + 1]); i += 2
        elif args[i] == "--dim":
            dim = int(args[i + 1]); i += 2
        else:
            pos.append(args[i]); i += 1
    if len(pos) != 2:
        sys.exit(__doc__)
    proto_dir, out = pos
    py = os.path.join(out, "py")
    os.makedirs(py, exist_ok=True)
    subprocess.run(["protoc", "-I", proto_dir, "-I", "/usr/include", "--python_out", py,
                    os.path.join(proto_dir, "docarray.proto"), os.path.join(proto_dir, "jina.proto")],
                   check=True)
    sys.path.insert(0, py)
    import jina_pb2  # noqa: E402 (generated just above)

    rng = random.Random(42)
    # Round-trip through float32 so JSON and protobuf carry the same values.
    def f32(x):
        return struct.unpack("<f", struct.pack("<f", x))[0]

    texts, embs, ids = [], [], []
    for n in range(docs):
        ids.append("%032x" % rng.getrandbits(128))
        texts.append(("document %d " % n + "lorem ipsum dolor sit amet consectetur ")[:50])
        embs.append([f32(rng.uniform(-1.0, 1.0)) for _ in range(dim)])

    def write(name, data):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)

    one = {"execEndpoint": "/index", "data": [{"text": "hello world"}], "parameters": {}}
    write("one.json", json.dumps(one, separators=(",", ":")).encode())
    # Floats with 9 significant digits: enough to read back the same float32
    # (docflow's own encoder writes the shortest such form, 9 digits at most).
    items = []
    for n in range(docs):
        emb = ",".join("%.9g" % v for v in embs[n])
        items.append('{"id":%s,"text":%s,"embedding":[%s]}' % (json.dumps(ids[n]), json.dumps(texts[n]), emb))
    text = '{"execEndpoint":"/index","data":[%s],"parameters":{}}' % ",".join(items)
    json.loads(text)  # well-formed
    write("many.json", text.encode())

    req = jina_pb2.DataRequestProto()
    req.header.exec_endpoint = "/index"
    req.header.request_id = "gateway-bench"
    for n in range(docs):
        d = req.data.docs.docs.add()
        d.id = ids[n]
        d.text = texts[n]
        e = d.embedding.dense
        e.buffer = struct.pack("<%df" % dim, *embs[n])
        e.shape.append(dim)
        e.dtype = "<f4"
    write("many.pb", req.SerializeToString())
    write("many.count", b"%d\n" % docs)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""gateway_check.py -- the socket-level checks of test_gateway.sh.

Each subcommand talks to a running `docflow-host run` on 127.0.0.1:PORT and
prints one line per check: "PASS name" or "FAIL name: detail". The shell
test counts them (a crash of this script counts as a failure too). Only the
standard library (plus python3-protobuf for `protobuf`) is used; every
socket has a timeout and every loop is bounded.

Usage: gateway_check.py SUBCOMMAND PORT [ARGS...]
  api PORT                  every endpoint's status, headers and JSON shape
  metrics PORT              /metrics parsed; counters move by what was sent
  protobuf PORT PROTO_DIR   DataRequestProto in and out
  cors PORT on|off          preflight and headers (or their absence)
  conn PORT                 keep-alive, pipelining, 50 connections, chunked
                            bodies, 100-continue, half requests, idle clients
  strict PORT               malformed framing: 400/413/431/501/505, JSON bodies
  badinput PORT             bad JSON, wrong types, an executor failure
  dryfail PORT              GET /dry_run of a flow that fails
  busy PORT                 prefetch 1: a concurrent request gets 503
  wait PORT                 prefetch_wait: both concurrent requests get 200
  timeout PORT              timeout_send: 504, then the next request works
  drain PORT PID N          N slow requests, SIGTERM: all 200, no new clients
  alive PORT                the server still serves a valid request
"""
import concurrent.futures
import http.client
import json
import os
import re
import signal
import socket
import sys
import threading
import time

HOSTADDR = "127.0.0.1"
TIMEOUT = 10.0
RESULTS = {"pass": 0, "fail": 0}


def check(name, ok, detail=""):
    if ok:
        RESULTS["pass"] += 1
        print(f"PASS {name}", flush=True)
    else:
        RESULTS["fail"] += 1
        detail = str(detail).replace("\n", "\\n")
        if len(detail) > 600:
            detail = detail[:600] + "..."
        print(f"FAIL {name}: {detail}", flush=True)
    return ok


def guarded(name, fn, *args):
    """Runs one group of checks; an exception is one failed check."""
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 -- any crash is a failed check
        check(name, False, f"{type(e).__name__}: {e}")


# ---- HTTP over raw sockets ---------------------------------------------------------

class Response:
    def __init__(self, status, reason, headers, body, version):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case name -> value (last wins)
        self.body = body
        self.version = version

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<{self.status} {self.headers} {self.body[:300]!r}>"


class Conn:
    """One client connection with a byte buffer: responses are read one at a
    time, framed by Content-Length, so pipelining and keep-alive are exact."""

    def __init__(self, port, timeout=TIMEOUT):
        self.sock = socket.create_connection((HOSTADDR, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        self.buf += chunk

    def read_response(self, head=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
            if len(self.buf) > 1 << 20:
                raise ValueError("no end of headers in 1 MB")
        head_bytes, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head_bytes.decode("latin1").split("\r\n")
        m = re.match(r"^(HTTP/1\.[01]) (\d{3}) (.*)$", lines[0])
        if not m:
            raise ValueError(f"bad status line {lines[0][:100]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        status = int(m.group(2))
        length = 0
        if not head and status not in (204, 304) and status >= 200:
            length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return Response(status, m.group(3), headers, body, m.group(1))

    def closed_by_peer(self, wait=2.0):
        """True when the server closes the connection (EOF or reset) within
        `wait` seconds and sends nothing more."""
        self.sock.settimeout(wait)
        try:
            extra = self.sock.recv(65536)
            return extra == b"" and self.buf == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def request_bytes(method, path, body=None, headers=None, close=False):
    out = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    hdrs = dict(headers or {})
    if body is not None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        hdrs.setdefault("Content-Length", str(len(body)))
    if close:
        hdrs["Connection"] = "close"
    out += [f"{k}: {v}" for k, v in hdrs.items()]
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin1") + (body or b"")


def call(port, method, path, body=None, headers=None, timeout=TIMEOUT):
    """One request on a fresh connection (Connection: close)."""
    c = Conn(port, timeout)
    try:
        c.send(request_bytes(method, path, body, headers, close=True))
        return c.read_response(head=(method == "HEAD"))
    finally:
        c.close()


def raw_exchange(port, data, timeout=5.0):
    """Sends bytes (the server may stop reading early), returns everything
    it answers until it closes the connection or `timeout` passes."""
    s = socket.create_connection((HOSTADDR, port), timeout=timeout)
    out = b""
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                break
            except socket.timeout:
                out += b"<TIMEOUT>"
                break
            if not b:
                break
            out += b
    finally:
        s.close()
    return out


def parse_one(data):
    """The first response in raw bytes -> Response (or None)."""
    if b"\r\n\r\n" not in data:
        return None
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin1").split("\r\n")
    m = re.match(r"^(HTTP/1\.[01]) (\d{3}) (.*)$", lines[0])
    if not m:
        return None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    return Response(int(m.group(2)), m.group(3), headers, rest[:length], m.group(1))


def is_error_body(resp, want_in_description=None):
    """The gateway's JSON error body: header.status {code 1, description,
    exception {name, args}}."""
    try:
        j = resp.json()
        st = j["header"]["status"]
        ok = st["code"] == 1 and isinstance(st["description"], str) and st["description"]
        ok = ok and isinstance(st["exception"]["name"], str) and st["exception"]["args"]
        if want_in_description:
            ok = ok and want_in_description in st["description"]
        return bool(ok) and (resp.header("content-type") or "").startswith("application/json")
    except Exception:  # noqa: BLE001
        return False


RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def server_alive(port, name):
    """The server still answers a valid request."""
    try:
        r = call(port, "POST", "/index", {"data": [{"id": "alive", "text": "still here"}]})
        ok = r.status == 200 and r.json()["data"][0]["id"] == "alive"
        return check(f"{name}: the server serves the next valid request", ok, r)
    except Exception as e:  # noqa: BLE001
        return check(f"{name}: the server serves the next valid request", False, e)


# ---- api ----------------------------------------------------------------------------

def results_of(j, prefix):
    """__results__ entries of executors whose name starts with prefix."""
    return {k: v for k, v in j["parameters"]["__results__"].items() if k.startswith(prefix)}


def api_post_shape(port):
    body = {"execEndpoint": "/index", "data": [{"id": "a", "text": "hello"}],
            "parameters": {"p": 1}}
    r = call(port, "POST", "/post", body)
    check("POST /post: 200", r.status == 200, r)
    check("POST /post: Content-Type application/json",
          (r.header("content-type") or "").startswith("application/json"), r.headers)
    j = r.json()
    check("POST /post: top-level keys header/parameters/routes/data",
          set(j) == {"header", "parameters", "routes", "data"}, list(j))
    h = j["header"]
    check("POST /post: header.requestId is 32 hex digits", bool(HEX32.match(h.get("requestId", ""))), h)
    check("POST /post: header.execEndpoint is /index", h.get("execEndpoint") == "/index", h)
    check("POST /post: header.status is null on success", "status" in h and h["status"] is None, h)
    check("POST /post: parameters keep the request's", j["parameters"].get("p") == 1, j["parameters"])
    res = results_of(j, "echo")
    check("POST /post: parameters.__results__ has echo's {indexed: 1}",
          len(res) == 1 and list(res.values())[0] == {"indexed": 1}, j["parameters"])
    routes = j["routes"]
    check("POST /post: routes start with the gateway",
          len(routes) >= 2 and routes[0]["executor"] == "gateway", routes)
    check("POST /post: routes then name echo", routes[1]["executor"].startswith("echo"), routes)
    check("POST /post: routes carry RFC 3339 start/end times",
          all(RFC3339.match(rt["startTime"]) and RFC3339.match(rt["endTime"]) for rt in routes),
          routes)
    d = j["data"]
    check("POST /post: data keeps the id", len(d) == 1 and d[0]["id"] == "a", d)
    check("POST /post: echo's /index ran (text, tags, 4-d embedding)",
          d[0]["text"] == "hello" and d[0]["tags"] == {"echoed": True, "endpoint": "/index"}
          and len(d[0]["embedding"]) == 4, d)
    r2 = call(port, "POST", "/post", body)
    check("POST /post: each request gets its own requestId",
          r2.json()["header"]["requestId"] != h["requestId"], (h, r2.json()["header"]))


def api_crud(port):
    docs = [{"id": "c1", "text": "one two"}, {"id": "c2", "text": "three"}]
    r = call(port, "POST", "/index", {"data": docs})
    j = r.json()
    check("POST /index: 200, execEndpoint /index, echo indexed 2",
          r.status == 200 and j["header"]["execEndpoint"] == "/index"
          and list(results_of(j, "echo").values()) == [{"indexed": 2}], r)
    check("POST /index: documents in order, tagged by echo",
          [d["id"] for d in j["data"]] == ["c1", "c2"]
          and all(d["tags"]["endpoint"] == "/index" for d in j["data"]), j["data"])

    r = call(port, "POST", "/search", {"data": docs, "parameters": {"limit": 2}})
    j = r.json()
    check("POST /search: 200, execEndpoint /search",
          r.status == 200 and j["header"]["execEndpoint"] == "/search", r)
    check("POST /search: 2 matches and a first-word chunk per document (parameters reach echo)",
          all(len(d["matches"]) == 2 for d in j["data"])
          and [d["chunks"][0]["text"] for d in j["data"]] == ["one", "three"], j["data"])

    r = call(port, "PUT", "/update", {"data": docs})
    j = r.json()
    check("PUT /update: 200, execEndpoint /update, echo's /update handler",
          r.status == 200 and j["header"]["execEndpoint"] == "/update"
          and all(d["tags"]["endpoint"] == "/update" for d in j["data"]), r)

    r = call(port, "DELETE", "/delete", {"data": docs})
    j = r.json()
    check("DELETE /delete: 200, execEndpoint /delete, echo's default handler",
          r.status == 200 and j["header"]["execEndpoint"] == "/delete"
          and all(d["tags"].get("handled_by") == "default" for d in j["data"])
          and list(results_of(j, "echo").values()) == [{"endpoint": "/delete"}], r)

    r = call(port, "POST", "/update", {"data": docs})
    check("POST /update accepted too", r.status == 200, r)
    # Jina: the CRUD and executor routes serve their own path; only /post
    # reads execEndpoint from the body.
    r = call(port, "POST", "/index", {"execEndpoint": "/search", "data": docs})
    j = r.json()
    check("POST /index with execEndpoint /search in the body: served as /index",
          r.status == 200 and j["header"]["execEndpoint"] == "/index"
          and all(d["tags"]["endpoint"] == "/index" for d in j["data"]), r)

    # A custom endpoint bound by an executor: /replace (one summary document).
    r = call(port, "POST", "/replace", {"data": docs})
    j = r.json()
    check("POST /replace (custom endpoint): 200, one document tagged count 2",
          r.status == 200 and len(j["data"]) == 1 and j["data"][0]["tags"] == {"count": 2}, r)
    r = call(port, "POST", "/post", {"execEndpoint": "/replace", "data": docs})
    check("POST /post execEndpoint /replace: same",
          r.status == 200 and r.json()["data"][0]["tags"] == {"count": 2}, r)

    # EchoPairs binds /pairs only: targeted, it tags batch_len (batches of 2).
    three = [{"id": f"p{i}", "text": f"t{i}"} for i in range(3)]
    r = call(port, "POST", "/pairs", {"data": three, "targetExecutor": "pairs"})
    j = r.json()
    check("POST /pairs targetExecutor pairs: EchoPairs ran in batches of 2",
          r.status == 200 and [d["tags"]["batch_len"] for d in j["data"]] == [2, 2, 1]
          and j["header"]["targetExecutor"] == "pairs"
          and all(rt["executor"] == "gateway" or rt["executor"].startswith("pairs")
                  for rt in j["routes"]), r)

    # An endpoint nobody binds, to an executor without a default handler:
    # the documents pass through unchanged (Jina's behaviour).
    sent = [{"id": "u1", "text": "keep me", "tags": {"k": [1, "x"]}}, {"id": "u2", "uri": "a.txt"}]
    r = call(port, "POST", "/nobody-binds-this", {"data": sent, "targetExecutor": "pairs",
                                                   "parameters": {"z": True}})
    j = r.json()
    check("unknown endpoint, no default handler: 200, status null",
          r.status == 200 and j["header"]["status"] is None
          and j["header"]["execEndpoint"] == "/nobody-binds-this", r)
    check("unknown endpoint, no default handler: documents unchanged", j["data"] == sent, j["data"])
    check("unknown endpoint, no default handler: no results",
          j["parameters"]["__results__"] == {} and j["parameters"]["z"] is True, j["parameters"])
    r = call(port, "POST", "/post", {"execEndpoint": "/nobody-binds-this", "data": sent,
                                      "targetExecutor": "pairs"})
    check("POST /post unknown execEndpoint, no default handler: documents unchanged",
          r.status == 200 and r.json()["data"] == sent, r)

    # /post without execEndpoint: Jina 3.x's default "/" (echo's default handler).
    r = call(port, "POST", "/post", {"data": [{"id": "n1", "text": "x"}]})
    j = r.json()
    check("POST /post without execEndpoint: 200 with endpoint /",
          r.status == 200 and j["header"]["execEndpoint"] == "/"
          and j["data"][0]["tags"].get("handled_by") == "default", r)
    # Compatibility spellings.
    r = call(port, "POST", "/post", {"exec_endpoint": "/index", "data": {"docs": [{"id": "o1", "text": "old"}]}})
    j = r.json()
    check("POST /post: exec_endpoint and data {docs: [...]} accepted",
          r.status == 200 and j["header"]["execEndpoint"] == "/index" and j["data"][0]["id"] == "o1", r)
    r = call(port, "POST", "/post", {"execEndpoint": "/index", "data": []})
    check("POST /post: empty data -> 200, data []", r.status == 200 and r.json()["data"] == [], r)


def api_status_and_friends(port):
    r = call(port, "GET", "/status")
    j = r.json()
    check("GET /status: 200 JSON", r.status == 200 and
          (r.header("content-type") or "").startswith("application/json"), r)
    check("GET /status: jina section with a version",
          isinstance(j.get("jina"), dict) and any(isinstance(v, str) and re.match(r"^\d+\.\d+", v)
                                                  for v in j["jina"].values()), j)
    ex = {e["name"]: e for e in j.get("executors", [])}
    check("GET /status: echo has 2 replicas, 1 shard, ready",
          ex.get("echo", {}).get("replicas") == 2 and ex["echo"].get("shards") == 1
          and ex["echo"].get("state") == "ready", j)
    check("GET /status: pairs has 1 replica, 2 shards, ready",
          ex.get("pairs", {}).get("replicas") == 1 and ex["pairs"].get("shards") == 2
          and ex["pairs"].get("state") == "ready", j)

    r = call(port, "GET", "/dry_run")
    check("GET /dry_run: 200 {code 0, description '', exception null}",
          r.status == 200 and r.json() == {"code": 0, "description": "", "exception": None}, r)

    r = call(port, "GET", "/openapi.json")
    check("GET /openapi.json: 200 JSON", r.status == 200 and
          (r.header("content-type") or "").startswith("application/json"), r)
    doc = r.json()
    paths = doc.get("paths", {})
    check("openapi: version 3 and the flow's title",
          str(doc.get("openapi", "")).startswith("3.") and doc["info"]["title"] == "gateway-test",
          doc.get("info"))
    for p in ("/post", "/index", "/search", "/replace", "/fail", "/pairs"):
        check(f"openapi: POST {p} described", "post" in paths.get(p, {}), sorted(paths))
    for p in ("/status", "/dry_run", "/metrics"):
        check(f"openapi: GET {p} described", "get" in paths.get(p, {}), sorted(paths))
    check("openapi: /post takes JSON and protobuf",
          {"application/json", "application/x-protobuf"}
          <= set(paths["/post"]["post"]["requestBody"]["content"]), paths.get("/post"))
    # Jina's CRUD routes are PUT /update and DELETE /delete; the server serves
    # them, so the document should say so.
    check("openapi: PUT /update described (the server serves it)", "put" in paths.get("/update", {}),
          paths.get("/update", {}).keys())
    check("openapi: DELETE /delete described (the server serves it)",
          "delete" in paths.get("/delete", {}), paths.get("/delete", {}).keys())
    refs = set(re.findall(r'"\$ref":\s*"#/components/(\w+)/(\w+)"', r.body.decode()))
    missing = [f"{a}/{b}" for a, b in refs if b not in doc.get("components", {}).get(a, {})]
    check("openapi: every $ref resolves", not missing, missing)

    # Wrong paths and methods: JSON answers, right codes.
    r = call(port, "GET", "/no/such/path")
    check("GET unknown path: 404 with a JSON error body", r.status == 404 and is_error_body(r), r)
    r = call(port, "GET", "/post")
    check("GET /post: 405 with a JSON error body", r.status == 405 and is_error_body(r), r)
    check("405 carries an Allow header (RFC 9110 15.5.6: MUST)", bool(r.header("allow")), r.headers)
    r = call(port, "POST", "/status", {"data": []})
    check("POST /status: 405 with a JSON error body", r.status == 405 and is_error_body(r), r)
    r = call(port, "PATCH", "/index", {"data": []})
    check("PATCH /index: 405 with a JSON error body", r.status == 405 and is_error_body(r), r)
    r = call(port, "POST", "/index", b"--x\r\n", {"Content-Type": "multipart/form-data; boundary=x"})
    check("multipart body: 415 with a JSON error body", r.status == 415 and is_error_body(r), r)


def cmd_api(port):
    guarded("api: /post shape", api_post_shape, port)
    guarded("api: CRUD and executor endpoints", api_crud, port)
    guarded("api: status, dry_run, openapi, wrong paths", api_status_and_friends, port)


# ---- metrics ------------------------------------------------------------------------

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(port):
    r = call(port, "GET", "/metrics")
    text = r.body.decode("utf-8")
    samples = {}
    bad = []
    helps, types = set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            parts = line.split()
            types[parts[2]] = parts[3]
            continue
        m = SAMPLE.match(line)
        if not m:
            bad.append(line)
            continue
        labels = tuple(sorted(LABEL.findall(m.group(3) or "")))
        samples[(m.group(1), labels)] = float(m.group(4))
    return r, samples, bad, helps, types


def metric(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def metric_sum(samples, name, label, prefix):
    return sum(v for (n, ls), v in samples.items()
               if n == name and any(k == label and val.startswith(prefix) for k, val in ls))


def cmd_metrics(port):
    r, before, bad, helps, types = scrape(port)
    check("metrics: 200 text/plain version 0.0.4",
          r.status == 200 and (r.header("content-type") or "").startswith("text/plain")
          and "0.0.4" in (r.header("content-type") or ""), r.headers)
    check("metrics: every line is a comment or a valid sample", not bad, bad[:5])
    fams = {"docflow_requests_total": "counter", "docflow_request_errors_total": "counter",
            "docflow_request_duration_seconds": "histogram", "docflow_executor_calls_total": "counter",
            "docflow_executor_duration_seconds": "histogram",
            "docflow_requests_in_flight": "gauge", "docflow_documents_processed_total": "counter"}
    check("metrics: the families exist with HELP and TYPE",
          all(types.get(f) == t and f in helps for f, t in fams.items()), types)

    n_index, n_fail, docs_per = 7, 2, 3
    for i in range(n_index):
        call(port, "POST", "/index", {"data": [{"text": f"m{i}-{k}"} for k in range(docs_per)]})
    for i in range(n_fail):
        call(port, "POST", "/fail", {"data": [{"text": "f"}], "targetExecutor": "echo"})
    call(port, "POST", "/search", "{not json")

    r, after, bad, _, _ = scrape(port)
    check("metrics: still valid after traffic", not bad, bad[:5])

    def delta(name, **labels):
        return metric(after, name, **labels) - metric(before, name, **labels)

    check(f"metrics: requests_total /index 200 grew by {n_index}",
          delta("docflow_requests_total", endpoint="/index", code="200") == n_index,
          delta("docflow_requests_total", endpoint="/index", code="200"))
    check("metrics: request_errors_total /index unchanged",
          delta("docflow_request_errors_total", endpoint="/index") == 0,
          delta("docflow_request_errors_total", endpoint="/index"))
    check(f"metrics: duration histogram /index count grew by {n_index}",
          delta("docflow_request_duration_seconds_count", endpoint="/index") == n_index,
          delta("docflow_request_duration_seconds_count", endpoint="/index"))
    buckets = sorted(((float(dict(ls)["le"]) if dict(ls)["le"] != "+Inf" else float("inf")), v)
                     for (n, ls), v in after.items()
                     if n == "docflow_request_duration_seconds_bucket" and dict(ls).get("endpoint") == "/index")
    check("metrics: /index buckets cumulative, +Inf equals _count",
          buckets and all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
          and buckets[-1][1] == metric(after, "docflow_request_duration_seconds_count", endpoint="/index"),
          buckets)
    check("metrics: /index latency _sum > 0",
          metric(after, "docflow_request_duration_seconds_sum", endpoint="/index") > 0, "")
    fail_total = (metric_sum(after, "docflow_requests_total", "endpoint", "/fail")
                  - metric_sum(before, "docflow_requests_total", "endpoint", "/fail"))
    check(f"metrics: /fail counted {n_fail} times, all as errors",
          fail_total == n_fail and delta("docflow_request_errors_total", endpoint="/fail") == n_fail,
          (fail_total, delta("docflow_request_errors_total", endpoint="/fail")))
    # The family is "by endpoint and HTTP status code": the executor failures
    # went out as HTTP 200 (Jina's way), so that is the code to count.
    check(f"metrics: /fail's code label is the HTTP status sent (200), {n_fail} times",
          delta("docflow_requests_total", endpoint="/fail", code="200") == n_fail,
          {dict(ls)["code"]: v for (n, ls), v in after.items()
           if n == "docflow_requests_total" and dict(ls).get("endpoint") == "/fail"})
    check("metrics: the bad JSON on /search counted as 400 and an error",
          delta("docflow_requests_total", endpoint="/search", code="400") == 1
          and delta("docflow_request_errors_total", endpoint="/search") == 1,
          delta("docflow_requests_total", endpoint="/search", code="400"))
    calls = (metric_sum(after, "docflow_executor_calls_total", "executor", "echo")
             - metric_sum(before, "docflow_executor_calls_total", "executor", "echo"))
    errs = (metric_sum(after, "docflow_executor_errors_total", "executor", "echo")
            - metric_sum(before, "docflow_executor_errors_total", "executor", "echo"))
    check(f"metrics: echo's calls grew by {n_index + n_fail}, its errors by {n_fail}",
          calls == n_index + n_fail and errs == n_fail, (calls, errs))
    docs = delta("docflow_documents_processed_total")
    check(f"metrics: documents processed grew by at least {n_index * docs_per}",
          n_index * docs_per <= docs <= n_index * docs_per + n_fail, docs)
    check("metrics: nothing in flight when idle", metric(after, "docflow_requests_in_flight") == 0,
          metric(after, "docflow_requests_in_flight"))


# ---- protobuf -----------------------------------------------------------------------

def load_jina_pb2(proto_dir, tmp):
    import importlib
    import subprocess
    subprocess.run(["/usr/bin/protoc", "-I" + proto_dir, "-I/usr/include", "--python_out=" + tmp,
                    os.path.join(proto_dir, "docarray.proto"), os.path.join(proto_dir, "jina.proto")],
                   check=True)
    sys.dont_write_bytecode = True
    sys.path.insert(0, tmp)
    return importlib.import_module("jina_pb2")


def pb_call(port, msg_bytes, path="/post"):
    return call(port, "POST", path, msg_bytes, {"Content-Type": "application/x-protobuf"})


def cmd_protobuf(port, proto_dir):
    import tempfile
    with tempfile.TemporaryDirectory(prefix="docflow-gw-pb2-") as tmp:
        jina_pb2 = load_jina_pb2(proto_dir, tmp)
        req = jina_pb2.DataRequestProto()
        req.header.exec_endpoint = "/index"
        req.header.request_id = "client-chosen-id"
        req.parameters.update({"p": "x"})
        for i in range(3):
            d = req.data.docs.docs.add()
            d.id = f"pb{i}"
            d.text = f"hello pb {i}"
            d.tags.update({"k": i})
        r = pb_call(port, req.SerializeToString())
        check("protobuf: 200 application/x-protobuf",
              r.status == 200 and r.header("content-type") == "application/x-protobuf", r)
        resp = jina_pb2.DataRequestProto()
        resp.ParseFromString(r.body)
        check("protobuf: header.exec_endpoint /index, status SUCCESS",
              resp.header.exec_endpoint == "/index" and resp.header.status.code == 0, resp.header)
        check("protobuf: header.request_id set", resp.header.request_id != "", resp.header)
        from google.protobuf import json_format
        params = json_format.MessageToDict(resp.parameters)
        res = {k: v for k, v in dict(params.get("__results__", {})).items() if k.startswith("echo")}
        check("protobuf: parameters kept, __results__ has echo's indexed 3",
              params.get("p") == "x" and list(res.values()) == [{"indexed": 3.0}], params)
        check("protobuf: routes start with the gateway, then echo",
              len(resp.routes) >= 2 and resp.routes[0].executor == "gateway"
              and resp.routes[1].executor.startswith("echo")
              and resp.routes[1].start_time.seconds > 0, resp.routes)
        docs = resp.data.docs.docs
        check("protobuf: 3 documents in order, echo's /index ran",
              [d.id for d in docs] == ["pb0", "pb1", "pb2"]
              and [d.text for d in docs] == [f"hello pb {i}" for i in range(3)]
              and all(d.tags["echoed"] is True and d.tags["k"] == i for i, d in enumerate(docs)), docs)
        emb = docs[0].embedding.dense if docs else None
        check("protobuf: embedding as a dense <f4 array of shape [4]",
              emb is not None and list(emb.shape) == [4] and emb.dtype == "<f4" and len(emb.buffer) == 16,
              emb)

        # An executor failure arrives in header.status, still HTTP 200.
        bad = jina_pb2.DataRequestProto()
        bad.header.exec_endpoint = "/fail"
        bad.header.target_executor = "echo"
        bad.parameters.update({"reason": "pb says no"})
        bad.data.docs.docs.add().text = "x"
        r = pb_call(port, bad.SerializeToString())
        resp = jina_pb2.DataRequestProto()
        resp.ParseFromString(r.body)
        st = resp.header.status
        check("protobuf: executor failure -> 200, status ERROR with message and executor",
              r.status == 200 and st.code == 1 and "pb says no" in st.description
              and st.exception.executor.startswith("echo"), (r.status, st))

        # Bytes that are not a DataRequestProto: 400 with a JSON body.
        r = pb_call(port, b"\xff\xff\xff\xff\x0f garbage")
        check("protobuf: garbage bytes -> 400 with a JSON error body",
              r.status == 400 and is_error_body(r), r)
        # The protobuf body on a CRUD path works too.
        plain = jina_pb2.DataRequestProto()
        plain.data.docs.docs.add().text = "via search"
        r = pb_call(port, plain.SerializeToString(), "/search")
        resp = jina_pb2.DataRequestProto()
        resp.ParseFromString(r.body)
        check("protobuf: POST /search with a protobuf body",
              r.status == 200 and resp.header.exec_endpoint == "/search"
              and len(resp.data.docs.docs[0].matches) == 1, (r.status, resp.header))


# ---- CORS ---------------------------------------------------------------------------

def cmd_cors(port, mode):
    pre = {"Origin": "http://example.test", "Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "content-type"}
    if mode == "on":
        r = call(port, "OPTIONS", "/post", None, pre)
        check("CORS: preflight OPTIONS /post -> 204", r.status == 204, r)
        check("CORS: preflight allows any origin", r.header("access-control-allow-origin") == "*", r.headers)
        check("CORS: preflight allows POST",
              "POST" in (r.header("access-control-allow-methods") or ""), r.headers)
        check("CORS: preflight allows headers", bool(r.header("access-control-allow-headers")), r.headers)
        check("CORS: preflight has no body", r.body == b"" and r.header("content-length") in (None, "0"),
              r)
        r = call(port, "OPTIONS", "/index", None, pre)
        check("CORS: preflight on /index too", r.status == 204, r)
        r = call(port, "POST", "/post", {"execEndpoint": "/index", "data": [{"text": "c"}]},
                 {"Origin": "http://example.test"})
        check("CORS: POST response carries Access-Control-Allow-Origin",
              r.status == 200 and r.header("access-control-allow-origin") == "*", r.headers)
        r = call(port, "POST", "/post", "{bad", {"Origin": "http://example.test"})
        check("CORS: error responses carry it too",
              r.status == 400 and r.header("access-control-allow-origin") == "*", r.headers)
        r = call(port, "GET", "/status", None, {"Origin": "http://example.test"})
        check("CORS: GET /status carries it", r.header("access-control-allow-origin") == "*", r.headers)
    else:
        r = call(port, "POST", "/post", {"execEndpoint": "/index", "data": [{"text": "c"}]},
                 {"Origin": "http://example.test"})
        check("no CORS: POST has no Access-Control-* headers",
              r.status == 200 and not any(k.startswith("access-control-") for k in r.headers), r.headers)
        r = call(port, "OPTIONS", "/post", None, pre)
        check("no CORS: OPTIONS is not a preflight answer (405, JSON, no CORS headers)",
              r.status == 405 and is_error_body(r)
              and not any(k.startswith("access-control-") for k in r.headers), r)


# ---- connections --------------------------------------------------------------------

def index_req(i, close=False):
    return request_bytes("POST", "/index", {"data": [{"id": f"k{i}", "text": f"t{i}"}]}, close=close)


def conn_keepalive(port):
    c = Conn(port)
    ok, bad = 0, None
    try:
        for i in range(100):
            c.send(index_req(i))
            r = c.read_response()
            if r.status == 200 and r.header("connection") == "keep-alive" \
                    and r.json()["data"][0]["id"] == f"k{i}":
                ok += 1
            elif bad is None:
                bad = r
    finally:
        c.close()
    check("keep-alive: 100 requests on one connection, each answered 200 in turn", ok == 100, (ok, bad))


def conn_pipelined(port):
    c = Conn(port)
    try:
        batch = b""
        kinds = []
        for i in range(12):
            if i % 4 == 3:
                batch += request_bytes("GET", "/status")
                kinds.append("status")
            elif i % 4 == 1:
                batch += request_bytes("POST", "/search", {"data": [{"id": f"k{i}", "text": f"s{i}"}]})
                kinds.append(f"k{i}")
            else:
                batch += index_req(i)
                kinds.append(f"k{i}")
        c.send(batch)  # all at once: one write, many requests
        got = []
        for _ in kinds:
            r = c.read_response()
            j = r.json()
            got.append("status" if "executors" in j else j["data"][0]["id"])
        check("pipelining: 12 requests in one write answered in order", got == kinds, (got, kinds))
        # A pipelined request after one with a body split across writes.
        whole = index_req(100) + index_req(101)
        c.send(whole[:7])
        time.sleep(0.05)
        c.send(whole[7:40])
        time.sleep(0.05)
        c.send(whole[40:])
        ids = [c.read_response().json()["data"][0]["id"] for _ in range(2)]
        check("pipelining: requests split across writes answered in order", ids == ["k100", "k101"], ids)
    finally:
        c.close()
    # A good request, then garbage, in one write: 200, then 400 and close.
    c = Conn(port)
    try:
        c.send(index_req(200) + b"GET /status HTTP/1.1\r\nContent-Length: x\r\n\r\n" + index_req(201))
        first = c.read_response()
        second = c.read_response()
        check("pipelining: a good request then a malformed one: 200, then 400 and close",
              first.status == 200 and first.json()["data"][0]["id"] == "k200"
              and second.status == 400 and second.header("connection") == "close"
              and c.closed_by_peer(), (first, second))
    finally:
        c.close()


def conn_concurrent(port):
    def worker(t):
        c = Conn(port)
        try:
            seen = []
            for k in range(5):
                c.send(request_bytes("POST", "/index", {"data": [{"id": f"w{t}-{k}", "text": "x" * (t + 1)}]}))
                r = c.read_response()
                seen.append((r.status, r.json()["data"][0]["id"]))
            return seen == [(200, f"w{t}-{k}") for k in range(5)]
        finally:
            c.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(worker, range(50), timeout=60))
    check("50 connections at once, 5 requests each: all 200 with their own documents",
          all(results), results.count(False))


def chunked(body, sizes):
    out, i, k = b"", 0, 0
    while i < len(body):
        n = sizes[k % len(sizes)]
        k += 1
        part = body[i:i + n]
        out += f"{len(part):x}".encode() + b"\r\n" + part + b"\r\n"
        i += n
    return out + b"0\r\n\r\n"


def conn_chunked(port):
    body = json.dumps({"data": [{"id": f"ch{i}", "text": f"chunk {i}"} for i in range(20)]}).encode()
    head = b"POST /index HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    c = Conn(port)
    try:
        c.send(head + chunked(body, [1, 7, 100, 3]))
        r = c.read_response()
        check("chunked body: 200 and every document",
              r.status == 200 and [d["id"] for d in r.json()["data"]] == [f"ch{i}" for i in range(20)], r)
        # Extensions and trailers, sent byte by byte, on the same connection.
        msg = head + b"5;ext=1\r\n" + body[:5] + b"\r\n" + f"{len(body) - 5:X}".encode() + b"\r\n" + \
            body[5:] + b"\r\n0\r\nX-Trailer: t\r\n\r\n"
        for i in range(0, len(msg), 97):
            c.send(msg[i:i + 97])
        r = c.read_response()
        check("chunked body with an extension and a trailer, trickled: 200",
              r.status == 200 and len(r.json()["data"]) == 20, r)
    finally:
        c.close()


def conn_tiny_chunks(port):
    # 100,000 one-byte chunks: the parser must not walk them all again on
    # each read (that was O(n^2): seconds of the gateway's only thread).
    text = "t" * (100_000 - 60)
    body = json.dumps({"data": [{"id": "tiny", "text": text}]}).encode()
    head = b"POST /index HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    c = Conn(port)
    try:
        c.send(head + b"".join(b"1\r\n%c\r\n" % b for b in body) + b"0\r\n\r\n")
        r = c.read_response()
        docs = r.json()["data"] if r.status == 200 else []
        check(f"{len(body):,} one-byte chunks: 200 and the document whole",
              len(docs) == 1 and docs[0]["id"] == "tiny" and docs[0]["text"] == text, r)
        c.send(request_bytes("GET", "/status"))
        r = c.read_response()
        check("one-byte chunks: the next request on the connection is served", r.status == 200, r)
    finally:
        c.close()


def conn_continue(port):
    body = json.dumps({"data": [{"id": "cont", "text": "after continue"}]}).encode()
    c = Conn(port)
    try:
        c.send(f"POST /index HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
               "Expect: 100-continue\r\n\r\n".encode())
        first = c.read_response()
        check("Expect: 100-continue gets 100 Continue before the body", first.status == 100, first)
        c.send(body)
        r = c.read_response()
        check("... then the real answer", r.status == 200 and r.json()["data"][0]["id"] == "cont", r)
    finally:
        c.close()


def conn_head(port):
    c = Conn(port)
    try:
        c.send(request_bytes("HEAD", "/status"))
        r = c.read_response(head=True)
        check("HEAD /status: 200", r.status == 200, r)
        c.send(request_bytes("GET", "/status"))
        try:
            r2 = c.read_response()
            ok = r2.status == 200 and "executors" in r2.json()
        except Exception as e:  # noqa: BLE001
            ok, r2 = False, f"{type(e).__name__}: {e}; bytes after the HEAD answer: {c.buf[:120]!r}"
        check("HEAD /status has no body (the next response on the connection parses)", ok, r2)
    finally:
        c.close()


def conn_close_semantics(port):
    c = Conn(port)
    try:
        c.send(index_req(1, close=True))
        r = c.read_response()
        check("Connection: close -> answered with Connection: close, then closed",
              r.status == 200 and r.header("connection") == "close" and c.closed_by_peer(), r)
    finally:
        c.close()
    c = Conn(port)
    try:
        c.send(b"GET /status HTTP/1.0\r\n\r\n")
        r = c.read_response()
        check("HTTP/1.0 without keep-alive: 200, then closed",
              r.status == 200 and r.header("connection") == "close" and c.closed_by_peer(), r)
    finally:
        c.close()
    c = Conn(port)
    try:
        for _ in range(3):
            c.send(b"GET /status HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            r = c.read_response()
        check("HTTP/1.0 with Connection: keep-alive stays open", r.status == 200
              and r.header("connection") == "keep-alive", r)
    finally:
        c.close()


def conn_half(port):
    # Half a header section, then gone; half a body, then gone; a reset.
    for part in (b"POST /index HTTP/1.1\r\nHost: x\r\nContent-Le",
                 b"POST /index HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"data\": [",
                 b"POST /index HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc"):
        s = socket.create_connection((HOSTADDR, port), timeout=5)
        s.sendall(part)
        time.sleep(0.05)
        s.close()
    s = socket.create_connection((HOSTADDR, port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.sendall(b"POST /index HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
    s.close()  # RST
    # A client that sends a whole request and leaves before the answer.
    s = socket.create_connection((HOSTADDR, port), timeout=5)
    s.sendall(index_req(7) * 5)
    s.close()
    time.sleep(0.1)
    server_alive(port, "half requests and disconnects")


def conn_idle(port, n=1000):
    import resource
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft != resource.RLIM_INFINITY and soft - 64 < n:  # a low ulimit: as many as fit
        n = max(100, soft - 64)
    socks = []
    try:
        for _ in range(n):
            socks.append(socket.create_connection((HOSTADDR, port), timeout=5))
        # Some of them half-way into a request.
        for s in socks[::10]:
            s.sendall(b"POST /index HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.2)
        server_alive(port, f"{n} idle connections open")
        # The idle ones still work.
        s = socks[1]
        s.sendall(request_bytes("GET", "/status"))
        data = b""
        deadline = time.monotonic() + 5
        while b"\r\n\r\n" not in data and time.monotonic() < deadline:
            data += s.recv(65536)
        check(f"{n} idle connections: one of them still gets its answer",
              data.startswith(b"HTTP/1.1 200"), data[:100])
    finally:
        for s in socks:
            s.close()
    time.sleep(0.2)
    server_alive(port, f"{n} idle connections closed")


def cmd_conn(port):
    guarded("keep-alive", conn_keepalive, port)
    guarded("pipelining", conn_pipelined, port)
    guarded("concurrent connections", conn_concurrent, port)
    guarded("chunked bodies", conn_chunked, port)
    guarded("one-byte chunks", conn_tiny_chunks, port)
    guarded("100-continue", conn_continue, port)
    guarded("HEAD", conn_head, port)
    guarded("Connection: close", conn_close_semantics, port)
    guarded("half requests", conn_half, port)
    guarded("idle connections", conn_idle, port)


# ---- strict parsing -----------------------------------------------------------------

def strict_case(port, name, data, status, words=None):
    out = raw_exchange(port, data)
    r = parse_one(out)
    ok = r is not None and r.status == status
    check(f"{name}: {status}", ok, out[:300])
    if r is None:
        return
    check(f"{name}: JSON error body" + (f" saying '{words}'" if words else ""),
          is_error_body(r, words), r.body[:300])
    check(f"{name}: Connection: close, and the connection is closed",
          r.header("connection") == "close" and b"<TIMEOUT>" not in out, out[-200:])


def cmd_strict(port):
    H = b"POST /index HTTP/1.1\r\nHost: x\r\n"
    body = b'{"data":[]}'
    cases = [
        ("conflicting Content-Length", H + b"Content-Length: 11\r\nContent-Length: 12\r\n\r\n" + body,
         400, "Content-Length"),
        ("repeated identical Content-Length", H + b"Content-Length: 11\r\nContent-Length: 11\r\n\r\n" + body,
         400, "Content-Length"),
        ("Content-Length list", H + b"Content-Length: 11, 11\r\n\r\n" + body, 400, "Content-Length"),
        ("Content-Length + Transfer-Encoding", H + b"Content-Length: 11\r\nTransfer-Encoding: chunked\r\n\r\n"
         + b"b\r\n" + body + b"\r\n0\r\n\r\n", 400, "Transfer-Encoding"),
        ("Transfer-Encoding + Content-Length", H + b"Transfer-Encoding: chunked\r\nContent-Length: 11\r\n\r\n"
         + b"b\r\n" + body + b"\r\n0\r\n\r\n", 400, "Transfer-Encoding"),
        ("space before the colon (smuggling)", H + b"Transfer-Encoding : chunked\r\nContent-Length: 11\r\n\r\n"
         + body, 400, None),
        ("Transfer-Encoding other than chunked", H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
         501, None),
        ("bad chunk size", H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + body + b"\r\n0\r\n\r\n",
         400, "chunk"),
        ("negative chunk size", H + b"Transfer-Encoding: chunked\r\n\r\n-1\r\n" + body + b"\r\n0\r\n\r\n",
         400, "chunk"),
        ("chunk size overflow", H + b"Transfer-Encoding: chunked\r\n\r\n1" + b"0" * 17 + b"\r\n", 400, None),
        ("chunk data longer than its size", H + b"Transfer-Encoding: chunked\r\n\r\n3\r\n" + body +
         b"\r\n0\r\n\r\n", 400, "chunk"),
        ("header over max_header_bytes (2048)", b"GET /status HTTP/1.1\r\nHost: x\r\nX-Big: "
         + b"a" * 4000 + b"\r\n\r\n", 431, "max_header_bytes"),
        ("header section never ending past max_header_bytes", b"GET /status HTTP/1.1\r\n"
         + b"X-A: b\r\n" * 400, 431, None),
        ("body over max_body_bytes by Content-Length (10 MB)", H + b"Content-Length: 10485760\r\n\r\n",
         413, "max_body_bytes"),
        ("body over max_body_bytes by a chunk size", H + b"Transfer-Encoding: chunked\r\n\r\n"
         + b"a00000\r\n" + b"x" * 1000, 413, "max_body_bytes"),
        ("HTTP/2.0 request line", b"GET /status HTTP/2.0\r\nHost: x\r\n\r\n", 505, None),
        ("HTTP/0.9-style request line", b"GET /status\r\n\r\n", 400, None),
        ("bare LF line ends", b"GET /status HTTP/1.1\nHost: x\n\n", 400, "LF"),
        ("bare LF after the request line", b"GET /status HTTP/1.1\r\nHost: x\n\r\n", 400, "LF"),
        ("folded header (obs-fold)", b"GET /status HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", 400, None),
        ("two Host headers", b"GET /status HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "Host"),
        ("NUL in a header value", b"GET /status HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n", 400, None),
        ("absolute-form target", b"GET http://x/status HTTP/1.1\r\nHost: x\r\n\r\n", 400, None),
        ("non-numeric Content-Length", H + b"Content-Length: 1e3\r\n\r\n", 400, "Content-Length"),
    ]
    for name, data, status, words in cases:
        guarded(name, strict_case, port, name, data, status, words)
    # A whole 10 MB body pushed at the server (it answers 413 without reading it all).
    big = json.dumps({"data": [{"text": "x" * 1000}] * 10000}).encode()
    guarded("10 MB body", strict_case, port, "10 MB body actually sent",
            H + f"Content-Length: {len(big)}\r\n\r\n".encode() + big, 413, "max_body_bytes")
    big_chunked = H + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(big, [65536])
    guarded("10 MB chunked body", strict_case, port, "10 MB chunked body actually sent",
            big_chunked, 413, "max_body_bytes")
    # A body just under the limit is served.
    docs = [{"text": "y" * 1000}] * 900
    ok_body = json.dumps({"data": docs}).encode()
    r = call(port, "POST", "/index", ok_body)
    check(f"a {len(ok_body)}-byte body (under max_body_bytes) is served",
          r.status == 200 and len(r.json()["data"]) == 900, r.status)
    server_alive(port, "after every malformed request")


# ---- bad input ----------------------------------------------------------------------

def bad_json(port, name, path, body, field_words):
    r = call(port, "POST", path, body)
    check(f"{name}: 400", r.status == 400, r)
    desc = ""
    try:
        desc = r.json()["header"]["status"]["description"]
    except Exception:  # noqa: BLE001
        pass
    check(f"{name}: JSON error naming {field_words!r}", is_error_body(r) and all(w in desc for w in field_words),
          desc or r.body[:200])


def cmd_badinput(port):
    cases = [
        ("invalid JSON in parameters", "/post", '{"data": [], "parameters": {"x": tru}}', ["parameters", "byte"]),
        ("truncated JSON", "/index", '{"data": [{"text": "a"}', ["data[0]", "byte"]),
        ("trailing garbage", "/index", '{"data": []} xyz', ["byte 13"]),
        ("not JSON at all ('xyz')", "/post", "xyz", ["byte 0"]),
        ("not JSON at all ('not json')", "/post", "not json", ["byte 0"]),
        ("data not a list", "/post", '{"execEndpoint": "/index", "data": "abc"}', ["data", "array"]),
        ("data a number", "/index", '{"data": 5}', ["data"]),
        ("a document not an object", "/index", '{"data": [1]}', ["data[0]"]),
        ("a document field of the wrong type", "/index", '{"data": [{"text": 5}]}', ["data[0].text"]),
        ("execEndpoint not a string", "/post", '{"execEndpoint": 5, "data": []}', ["execEndpoint"]),
        ("parameters not an object", "/index", '{"parameters": [1], "data": []}', ["parameters"]),
        ("targetExecutor not a string", "/post", '{"targetExecutor": {}, "data": []}', ["targetExecutor"]),
        ("body a JSON array", "/post", "[1, 2]", ["object"]),
    ]
    for name, path, body, words in cases:
        guarded(name, bad_json, port, name, path, body, words)
    # An empty body is a request without documents (curl -X POST /index).
    r = call(port, "POST", "/index", b"")
    check("empty body on /index: 200, endpoint /index, no documents",
          r.status == 200 and r.json()["header"]["execEndpoint"] == "/index" and r.json()["data"] == [], r)
    # An invalid targetExecutor regex is the client's mistake: 400, not
    # "busy, retry later" (clients retry 503s).
    r = call(port, "POST", "/post", {"targetExecutor": "(", "data": [{"text": "x"}]})
    check("targetExecutor an invalid regex: 400 naming targetExecutor (not 503)",
          r.status == 400 and "target" in r.body.decode().lower(), r)
    check("targetExecutor an invalid regex: no Retry-After", r.header("retry-after") is None, r.headers)

    # An executor failure: 200, header.status code 1 with the message and the executor.
    r = call(port, "POST", "/fail", {"data": [{"id": "f1", "text": "x"}], "targetExecutor": "echo",
                                     "parameters": {"reason": "no thanks"}})
    j = r.json()
    st = j["header"]["status"] or {}
    check("executor failure: HTTP 200", r.status == 200, r)
    check("executor failure: header.status.code 1 with the executor's message",
          st.get("code") == 1 and "no thanks" in st.get("description", ""), st)
    exc = st.get("exception") or {}
    check("executor failure: exception names the executor and has name/args",
          str(exc.get("executor", "")).startswith("echo") and exc.get("name")
          and any("no thanks" in a for a in exc.get("args", [])), exc)
    failed = [rt for rt in j["routes"] if rt["executor"].startswith("echo")]
    check("executor failure: echo's route carries the failed status",
          failed and (failed[0].get("status") or {}).get("code") == 1, j["routes"])
    # The same through /post, default reason.
    r = call(port, "POST", "/post", {"execEndpoint": "/fail", "targetExecutor": "echo", "data": []})
    check("executor failure via /post: default message",
          r.status == 200 and "asked to fail" in r.json()["header"]["status"]["description"], r)
    server_alive(port, "after an executor failure")


def cmd_dryfail(port):
    r = call(port, "GET", "/dry_run")
    check("failing flow: GET /dry_run answers 200", r.status == 200, r)
    j = r.json()
    # Jina: {"code": 1, "description": "...", "exception": {"name", "args", "stacks", "executor"}},
    # the same shape as the success answer.
    check("failing flow: /dry_run body is Jina's {code: 1, description, exception}",
          isinstance(j, dict) and j.get("code") == 1 and "asked to fail" in str(j.get("description"))
          and isinstance(j.get("exception"), dict), j)
    desc = json.dumps(j)
    check("failing flow: /dry_run names the failing executor", "grumpy" in desc, j)


# ---- back-pressure and timeouts -----------------------------------------------------

def concurrent_pair(port, gap=0.08):
    """Two requests, the second sent `gap` seconds after the first."""
    out = [None, None]

    def send(i):
        try:
            out[i] = call(port, "POST", "/post", {"data": [{"id": f"b{i}", "text": "x"}]})
        except Exception as e:  # noqa: BLE001
            out[i] = e

    t0 = threading.Thread(target=send, args=(0,))
    t0.start()
    time.sleep(gap)
    t1 = threading.Thread(target=send, args=(1,))
    t1.start()
    t0.join(30)
    t1.join(30)
    return out


def cmd_busy(port):
    a, b = concurrent_pair(port)
    codes = sorted(getattr(x, "status", None) or 0 for x in (a, b))
    check("prefetch 1, two at once: one 200, one 503", codes == [200, 503], (a, b))
    busy = b if getattr(b, "status", 0) == 503 else a
    if isinstance(busy, Response) and busy.status == 503:
        check("503 carries Retry-After (seconds)", (busy.header("retry-after") or "").isdigit(), busy.headers)
        check("503 has a JSON error body", is_error_body(busy), busy)
    r = call(port, "GET", "/status")
    check("prefetch full or not, GET /status answers", r.status == 200, r)
    r = call(port, "POST", "/post", {"data": [{"text": "later"}]})
    check("after the busy spell the next request gets 200", r.status == 200, r)


def cmd_wait(port):
    t = time.monotonic()
    a, b = concurrent_pair(port)
    took = time.monotonic() - t
    codes = [getattr(x, "status", None) for x in (a, b)]
    check("prefetch_wait: both concurrent requests get 200", codes == [200, 200], (a, b))
    check("prefetch_wait: the second waited for the first (>= 0.55 s total)", took >= 0.55, took)
    ids = [x.json()["data"][0]["id"] for x in (a, b) if isinstance(x, Response) and x.status == 200]
    check("prefetch_wait: each got its own documents", ids == ["b0", "b1"], ids)


def cmd_timeout(port):
    t = time.monotonic()
    r = call(port, "POST", "/post", {"data": [{"text": "slow"}], "parameters": {"sleep_ms": 2000}})
    took = time.monotonic() - t
    check("timeout_send 100 ms, executor 2 s: 504", r.status == 504, r)
    check("504 answered near the timeout, not after the executor (< 1.5 s)", took < 1.5, took)
    st = {}
    try:
        st = r.json()["header"]["status"]
    except Exception:  # noqa: BLE001
        pass
    check("504 body: JSON status code 1 saying it timed out",
          st.get("code") == 1 and "timed out" in st.get("description", ""), r.body[:300])
    r = call(port, "POST", "/post", {"data": [{"id": "next", "text": "fast"}]})
    check("the next request works (200)", r.status == 200 and r.json()["data"][0]["id"] == "next", r)
    time.sleep(max(0.0, 2.1 - (time.monotonic() - t)))  # the slow call ends in the background
    r = call(port, "POST", "/post", {"data": [{"id": "after", "text": "fast"}]})
    check("and after the slow call ended (200)", r.status == 200, r)
    _, s, _, _, _ = scrape(port)
    check("metrics count the 504", metric(s, "docflow_requests_total", endpoint="/", code="504") == 1,
          {k: v for k, v in s.items() if k[0] == "docflow_requests_total"})


# ---- graceful shutdown ---------------------------------------------------------------

def cmd_drain(port, pid, n):
    """n slow requests (sleep_ms 200 on 4 replicas), then SIGTERM once the
    server holds them all: every one gets 200; new connections are refused
    while they finish."""
    results = [None] * n
    conn_close = [None] * n
    conns = [Conn(port, 60) for _ in range(n)]  # connected first, so the sends are close together
    go = threading.Barrier(n, timeout=30)

    def send(i):
        # Keep-alive requests: the server closes them after answering, and
        # should say so in the answer (Connection: close).
        c = conns[i]
        try:
            go.wait()
            c.send(request_bytes("POST", "/post", {"data": [{"id": f"s{i}", "text": "slow"}],
                                                   "parameters": {"sleep_ms": 200}}))
            r = c.read_response()
            results[i] = (r.status, r.json()["data"][0]["id"] if r.status == 200 else r.body[:200])
            answered = time.monotonic()
            conn_close[i] = (r.header("connection"), c.closed_by_peer(5), answered)
        except Exception as e:  # noqa: BLE001
            results[i] = ("error", f"{type(e).__name__}: {e}")
        finally:
            c.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    # Wait until the server has received every request (in flight or
    # answered), bounded: 20 s. A request still on its way when SIGTERM
    # lands may legitimately be dropped with its idle connection.
    received, deadline = -1, time.monotonic() + 20
    while time.monotonic() < deadline:
        done = sum(1 for r in results if r is not None)
        try:
            received = call(port, "GET", "/status", timeout=5).json()["in_flight"] + done
        except Exception:  # noqa: BLE001
            pass
        if received >= n:
            break
        time.sleep(0.01)
    check(f"drain: the server holds all {n} requests before SIGTERM", received >= n, received)
    os.kill(pid, signal.SIGTERM)
    sigterm_at = time.monotonic()
    time.sleep(0.3)  # let the server read its signal
    # New connections: refused (or at least never served) while draining.
    served_new = []
    for _ in range(3):
        try:
            s = socket.create_connection((HOSTADDR, port), timeout=2)
        except (ConnectionRefusedError, socket.timeout, OSError):
            continue
        try:
            s.sendall(request_bytes("GET", "/status", close=True))
            data = s.recv(200)
            if data.startswith(b"HTTP/1.1 200"):
                served_new.append(data[:40])
        except (OSError, socket.timeout):
            pass
        finally:
            s.close()
        time.sleep(0.05)
    pending = sum(1 for r in results if r is None)
    check("drain: the slow requests were still running when new clients came", pending > 0, pending)
    check("drain: new connections are refused, none served", not served_new, served_new)
    for t in threads:
        t.join(60)
    ok = [r for r in results if r and r[0] == 200]
    check(f"drain: all {n} requests completed with 200",
          len(ok) == n and sorted(r[1] for r in ok) == sorted(f"s{i}" for i in range(n)),
          [r for r in results if not r or r[0] != 200][:5])
    check("drain: every keep-alive connection closed (after its answer)",
          all(cc and cc[1] for cc in conn_close), [cc for cc in conn_close if not cc or not cc[1]][:5])
    # Only answers well after SIGTERM are about draining (0.2 s for the
    # server to read its signal).
    late = [cc for cc in conn_close if cc and cc[2] > sigterm_at + 0.2]
    check("drain: answers sent while draining say Connection: close",
          late and all(cc[0] == "close" for cc in late), (len(late), sorted({str(cc[0]) for cc in late})))


# ---- main ---------------------------------------------------------------------------

def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, port = sys.argv[1], int(sys.argv[2])
    rest = sys.argv[3:]
    table = {
        "api": lambda: cmd_api(port),
        "metrics": lambda: guarded("metrics", cmd_metrics, port),
        "protobuf": lambda: guarded("protobuf", cmd_protobuf, port, rest[0]),
        "cors": lambda: guarded("cors", cmd_cors, port, rest[0]),
        "conn": lambda: cmd_conn(port),
        "strict": lambda: guarded("strict", cmd_strict, port),
        "badinput": lambda: guarded("bad input", cmd_badinput, port),
        "dryfail": lambda: guarded("dry run failure", cmd_dryfail, port),
        "busy": lambda: guarded("busy", cmd_busy, port),
        "wait": lambda: guarded("prefetch_wait", cmd_wait, port),
        "timeout": lambda: guarded("timeout", cmd_timeout, port),
        "alive": lambda: guarded("alive", server_alive, port, "still up"),
        "drain": lambda: guarded("drain", cmd_drain, port, int(rest[0]), int(rest[1])),
    }
    if cmd not in table:
        print(f"unknown subcommand {cmd}", file=sys.stderr)
        return 2
    table[cmd]()
    return 1 if RESULTS["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())

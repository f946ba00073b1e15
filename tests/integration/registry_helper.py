#!/usr/bin/env python3
"""registry_helper.py -- small servers for tests/integration/test_hub_registry.sh.

token-server: the bearer token service of the registry's `auth: token:`
  config. Checks basic credentials (--users alice:pw,bob:pw), grants pull on
  every repository and push only inside the user's own namespace, and signs an
  RS256 JWT with `openssl dgst` whose x5c header carries the certificate the
  registry trusts (rootcertbundle). Logs one line per token request.

fake-registry: what Debian's docker-registry 2.8 never does, so the client's
  handling of it can be tested: tags pages linked with Link rel="next"
  (relative, then absolute), blob GETs redirected to "storage" (and to a
  non-loopback plain-http URL, which the client must refuse), a blob that
  stalls halfway, and a blob larger than announced.

Both bind 127.0.0.1 on a free port and write it to --port-file. Python
standard library plus the openssl command only.
"""
import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def exit_with_parent():
    """Stop when the test shell that started us is gone (even SIGKILLed)."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def serve(handler, port_file):
    threading.Thread(target=exit_with_parent, daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, port_file)
    server.serve_forever()


class Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def token_server(args):
    users = dict(u.split(":", 1) for u in args.users.split(","))
    der = subprocess.run(["openssl", "x509", "-in", args.cert, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    x5c = base64.b64encode(der).decode()

    def sign(claims):
        header = {"typ": "JWT", "alg": "RS256", "x5c": [x5c]}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode()))
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", args.key],
                             input=signing_input.encode(), check=True,
                             capture_output=True).stdout
        return signing_input + "." + b64url(sig)

    class Handler(Quiet):
        def do_GET(self):
            url = urlsplit(self.path)
            q = parse_qs(url.query)
            user = None
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                name, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                if users.get(name) == pw:
                    user = name
            scopes = q.get("scope", [])
            with open(args.log, "a") as log:
                log.write("token user=%s scope=%s\n" % (user or "-", " ".join(scopes) or "-"))
            if url.path != "/token":
                return self.send(404)
            if user is None:
                return self.send(401, b'{"details":"bad credentials"}',
                                 {"Content-Type": "application/json",
                                  "WWW-Authenticate": 'Basic realm="token"'})
            access = []
            for scope in scopes:
                kind, _, rest = scope.partition(":")
                name, _, actions = rest.rpartition(":")
                granted = [a for a in actions.split(",")
                           if a == "pull" or (a == "push" and name.startswith(user + "/"))]
                access.append({"type": kind, "name": name, "actions": granted})
            now = int(time.time())
            token = sign({"iss": args.issuer, "sub": user, "aud": args.service,
                          "exp": now + 300, "nbf": now - 10, "iat": now,
                          "jti": uuid.uuid4().hex, "access": access})
            self.send(200, json.dumps({"token": token, "expires_in": 300}).encode(),
                      {"Content-Type": "application/json"})

    serve(Handler, args.port_file)


def fake_registry(args):
    blob = open(args.blob, "rb").read()
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    pages = {"": (["a", "b"], "</v2/pag/ed/tags/list?last=b&n=2>; rel=\"next\""),
             "b": (["c", "d"], None),  # absolute link, filled in per request
             "d": (["e"], None)}

    class Handler(Quiet):
        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            url = urlsplit(self.path)
            q = parse_qs(url.query)
            path = url.path
            if path == "/v2/":
                return self.send(200, b"{}", {"Content-Type": "application/json"})
            if path == "/v2/pag/ed/tags/list":
                last = q.get("last", [""])[0]
                tags, link = pages.get(last, ([], None))
                if last == "b":
                    link = "<http://127.0.0.1:%d/v2/pag/ed/tags/list?last=d&n=2>; rel=\"next\"" % (
                        self.server.server_address[1])
                headers = {"Content-Type": "application/json"}
                if link:
                    headers["Link"] = link
                body = json.dumps({"name": "pag/ed", "tags": tags}).encode()
                return self.send(200, body, headers)
            if path == "/v2/loop/ed/tags/list":
                return self.send(200, b'{"name":"loop/ed","tags":["x"]}',
                                 {"Link": "</v2/loop/ed/tags/list>; rel=\"next\""})
            if path == "/v2/red/irect/blobs/" + digest:
                return self.send(307, b"", {"Location": "/storage/" + digest})
            if path == "/v2/red/outside/blobs/" + digest:
                return self.send(307, b"", {"Location": "http://storage.example.invalid/x"})
            if path == "/storage/" + digest:
                return self.send(200, blob, {"Content-Type": "application/octet-stream"})
            if path == "/v2/stall/ed/blobs/" + digest:
                self.send_response(200)
                self.send_header("Content-Length", str(len(blob)))
                self.end_headers()
                self.wfile.write(blob[: len(blob) // 2])
                self.wfile.flush()
                time.sleep(60)
                return
            if path == "/v2/too/big/blobs/" + digest:
                return self.send(200, blob + b"trailing bytes",
                                 {"Content-Type": "application/octet-stream"})
            self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}',
                      {"Content-Type": "application/json"})

    serve(Handler, args.port_file)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("token-server")
    t.add_argument("--port-file", required=True)
    t.add_argument("--cert", required=True)
    t.add_argument("--key", required=True)
    t.add_argument("--issuer", required=True)
    t.add_argument("--service", required=True)
    t.add_argument("--users", required=True)
    t.add_argument("--log", required=True)
    f = sub.add_parser("fake-registry")
    f.add_argument("--port-file", required=True)
    f.add_argument("--blob", required=True)
    a = p.parse_args()
    if a.cmd == "token-server":
        token_server(a)
    else:
        fake_registry(a)


if __name__ == "__main__":
    sys.exit(main())

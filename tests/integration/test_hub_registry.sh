#!/usr/bin/env bash
# test_hub_registry.sh -- the registry client (hub/hub_registry.h) against
# the real thing: Debian's docker-registry started here on a free loopback
# port (tests/integration/registry.sh), driven through hub_registry_cli.
#
#   A  no auth: monolithic and chunked blob pushes, the HEAD that skips a
#      blob already there (the client's request log and the registry's),
#      one kept-alive connection per process, manifests byte-identical by tag
#      and digest, tags, delete, errors with the registry's code, names
#      refused before any request, corrupted downloads (wrong size, a blob
#      tampered on the registry's disk) refused with nothing left on disk
#   A2 relativeurls: the same pushes with relative upload Locations
#   S  skopeo: reads back exactly what we pushed; we pull what it copied from
#      an OCI layout directory
#   B  htpasswd: 401 with the login hint, wrong password refused and nothing
#      stored, auth.json 0600, push and pull with the stored login, logout
#   C  bearer tokens (registry_helper.py token-server): login through the
#      token service, one token per scope per process, pushes into another
#      user's namespace refused
#   T  TLS: --ca-cert, the untrusted-certificate message, --insecure, and
#      http:// to an https port
#   F  what 2.8 never does (registry_helper.py fake-registry): Link
#      pagination, blob redirects (and one to plain http off loopback,
#      refused), a stalled transfer, a blob longer than announced
source "$(dirname "$0")/lib.sh"
HELPER_PIDS=()
stop_helpers() {
    local p
    for p in "${HELPER_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    HELPER_PIDS=()
}
trap 'stop_helpers; rm -rf "$TMP"' EXIT
source "$(dirname "$0")/registry.sh"

CLI="$DF_BINARY_DIR/tests/hubtools/hub_registry_cli"
HELPER="$(dirname "$0")/registry_helper.py"
OCI=application/vnd.oci.image.manifest.v1+json
CONFIG_MT=application/vnd.docflow.executor.config.v1+json
LAYER_MT=application/vnd.docflow.executor.layer.v1.tar+gzip
ARTIFACT_T=application/vnd.docflow.executor.v1
for tool in docker-registry curl sha256sum python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool (tools/install-deps.sh)"; exit 1; }
done

# cli ARGS...: runs the driver against $REG_URL; stdout in $TMP/out, stderr
# (with -v: one line per HTTP request) in $TMP/err, exit code in RC.
cli() {
    "$CLI" --url "$REG_URL" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}
expect_out() {
    if grep -qF -- "$2" "$TMP/out"; then pass; else fail "$1: stdout lacks '$2': $(cat "$TMP/out")"; fi
}
expect_no_err() {
    if grep -qF -- "$2" "$TMP/err"; then fail "$1: stderr has '$2'"; else pass; fi
}
expect_eq() {
    if [ "$2" = "$3" ]; then pass; else fail "$1: expected [$2] got [$3]"; fi
}
same_file() {
    if cmp -s "$2" "$3"; then pass; else fail "$1: $2 and $3 differ"; fi
}
no_file() {
    if [ ! -e "$2" ] && [ ! -e "$2.part" ]; then pass; else fail "$1: $2 or $2.part exists"; fi
}
# requests METHOD: how many requests of that method the last -v run made
requests() {
    grep -c "registry: $1 " "$TMP/err"
}
sha() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
size() { stat -c %s "$1"; }
# mkmanifest CONFIG LAYER OUT: an OCI artifact manifest as docflow pushes it
mkmanifest() {
    printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"%s","config":{"mediaType":"%s","digest":"%s","size":%s},"layers":[{"mediaType":"%s","digest":"%s","size":%s}]}' \
        "$OCI" "$ARTIFACT_T" "$CONFIG_MT" "$(sha "$1")" "$(size "$1")" "$LAYER_MT" "$(sha "$2")" "$(size "$2")" > "$3"
}
# start_helper PORTVAR ARGS...: runs registry_helper.py in the background and
# waits for the port it writes
start_helper() {
    local var=$1 pf
    shift
    pf=$(mktemp -u "$TMP/helper.port.XXXXXX")
    python3 "$HELPER" "$@" --port-file "$pf" > "$pf.log" 2>&1 &
    HELPER_PIDS+=($!)
    for _ in $(seq 1 100); do [ -s "$pf" ] && break; sleep 0.1; done
    [ -s "$pf" ] || { fail "helper $1 did not start: $(cat "$pf.log")"; return 1; }
    printf -v "$var" '%s' "$(cat "$pf")"
}

ART=$TMP/art
mkdir -p "$ART"
head -c 300000 /dev/urandom > "$ART/layer.bin"
head -c 200001 /dev/urandom > "$ART/layer2.bin"
printf '{"namespace":"alice","name":"echo","version":"1.0.0"}' > "$ART/config.json"
printf '{"namespace":"alice","name":"echo","version":"1.1.0"}' > "$ART/config2.json"
mkmanifest "$ART/config.json" "$ART/layer.bin" "$ART/m1.json"
mkmanifest "$ART/config2.json" "$ART/layer2.bin" "$ART/m2.json"
L1=$(sha "$ART/layer.bin"); L2=$(sha "$ART/layer2.bin")
C1=$(sha "$ART/config.json"); C2=$(sha "$ART/config2.json")
M1=$(sha "$ART/m1.json"); M2=$(sha "$ART/m2.json")

# ============================================================ A: no auth
echo "# A: no auth"
registry_start || exit 1
REGLOG=$REG_DIR/registry.log
cli ping
expect_rc "ping" 0

cli exists alice/echo "$L1"
expect_rc "exists before push" 0
expect_out "blob not there yet" no

cli -v --progress push-file alice/echo "$ART/layer.bin"
expect_rc "monolithic push" 0
expect_out "push prints the digest" "$L1"
expect_eq "monolithic: one POST" 1 "$(requests POST)"
expect_eq "monolithic: one PUT" 1 "$(requests PUT)"
expect_eq "monolithic: no PATCH" 0 "$(requests PATCH)"
expect_err "progress reaches the size" "done=300000 total=300000"
expect_eq "one connection for ping, HEAD, POST, PUT (keep-alive)" 1 "$(grep -c '(new connection)' "$TMP/err")"
# the registry logs a request just after answering it: wait for the line
log_count() {
    local n
    for _ in $(seq 1 30); do
        n=$(grep -c "$1" "$REGLOG")
        [ "$n" -ge "$2" ] && break
        sleep 0.1
    done
    echo "$n"
}
expect_eq "the registry saw that PUT" 1 "$(log_count "http.request.method=PUT.*digest=$L1" 1)"

cli exists alice/echo "$L1"
expect_out "blob there after push" yes

cli -v push-file alice/echo "$ART/layer.bin"
expect_rc "second push of the same blob" 0
expect_eq "second push: HEAD only" 1 "$(requests HEAD)"
expect_eq "second push: no POST" 0 "$(requests POST)"
expect_eq "second push: no PUT" 0 "$(requests PUT)"
expect_err "second push says why" "already there, not uploaded"

cli -v --chunk 65536 --progress push-file alice/echo "$ART/layer2.bin"
expect_rc "chunked push" 0
expect_eq "chunked: 200001 bytes in 4 PATCHes of 64 KiB" 4 "$(requests PATCH)"
expect_eq "chunked: then one PUT" 1 "$(requests PUT)"
expect_err "chunked progress reaches the size" "done=200001 total=200001"
cli pull-file alice/echo "$L2" 200001 "$TMP/layer2.pulled"
expect_rc "pull the chunked blob" 0
same_file "chunked blob round trip" "$ART/layer2.bin" "$TMP/layer2.pulled"

cli -v --chunk 1048576 push-file alice/echo "$ART/config.json"
expect_rc "chunked push, one chunk" 0
expect_eq "one PATCH for a blob smaller than a chunk" 1 "$(requests PATCH)"
cli push-buffer alice/echo "$ART/config2.json"
expect_rc "monolithic push from memory" 0
expect_out "buffer push digest" "$C2"

cli manifest-put alice/echo 1.0.0 "$OCI" "$ART/m1.json"
expect_rc "manifest put" 0
expect_out "manifest digest = sha256 of the bytes" "$M1"
cli manifest-get alice/echo 1.0.0 "$TMP/m1.got"
expect_rc "manifest get by tag" 0
expect_out "digest and media type" "$M1 $OCI"
same_file "manifest byte-identical by tag" "$ART/m1.json" "$TMP/m1.got"
cli manifest-get alice/echo "$M1" "$TMP/m1.bydigest"
expect_rc "manifest get by digest" 0
same_file "manifest byte-identical by digest" "$ART/m1.json" "$TMP/m1.bydigest"
cli manifest-put alice/echo latest "$OCI" "$ART/m1.json"
expect_rc "same manifest as latest" 0
cli manifest-put alice/echo 1.1.0 "$OCI" "$ART/m2.json"
expect_rc "manifest 1.1.0" 0

cli pull-file alice/echo "$L1" 300000 "$TMP/layer.pulled"
expect_rc "pull-file" 0
same_file "blob round trip" "$ART/layer.bin" "$TMP/layer.pulled"
no_file "no .part after success" "$TMP/layer.pulled.part"
cli pull-buffer alice/echo "$C1" 0
expect_rc "pull-buffer, size unknown" 0
same_file "buffer round trip" "$ART/config.json" "$TMP/out"

cli tags alice/echo
expect_rc "tags" 0
expect_eq "tags (the registry does not sort them)" "1.0.0 1.1.0 latest" "$(sort "$TMP/out" | tr '\n' ' ' | sed 's/ $//')"
cli tags nobody/here
expect_rc "tags of an unknown repository" 0
expect_eq "no tags" "" "$(cat "$TMP/out")"

cli manifest-get alice/echo 9.9.9 "$TMP/none"
expect_rc "unknown tag" 2
expect_err "error names registry, ref, message, status, code" \
    "registry $REG_URL: alice/echo:9.9.9: manifest unknown (404 MANIFEST_UNKNOWN)"
cli manifest-put alice/echo 2.0.0 application/json "$ART/m1.json"
expect_rc "manifest with a wrong media type" 2
expect_err "the registry's code" "MANIFEST_INVALID"
cli manifest-put alice/echo 1.0.0+build "$OCI" "$ART/m1.json"
expect_rc "semver build metadata as a tag" 2
expect_err "tag grammar explained" "semver build metadata '+...' cannot be a tag"
cli -v tags Alice/echo
expect_rc "uppercase repository" 2
expect_err "repository grammar" "'Alice/echo' is not a valid repository name"
expect_eq "refused before any request" 0 "$(requests 'GET .*/v2/Alice')"
cli push-buffer bob/echo "$ART/config.json"
mkmanifest "$ART/config.json" "$ART/layer2.bin" "$ART/m3.json"
cli manifest-put bob/echo 1.0.0 "$OCI" "$ART/m3.json"
expect_rc "manifest whose layer is not in the repository" 2
expect_err "MANIFEST_BLOB_UNKNOWN" "(400 MANIFEST_BLOB_UNKNOWN)"

cli manifest-delete alice/echo "$M1"
expect_rc "delete by digest" 0
cli tags alice/echo
expect_eq "delete dropped every tag on that digest" "1.1.0" "$(cat "$TMP/out")"
cli manifest-get alice/echo "$M1" "$TMP/none"
expect_rc "deleted manifest is gone" 2
cli manifest-delete alice/echo "$M1"
expect_rc "delete again" 2
expect_err "delete again: unknown" "404 MANIFEST_UNKNOWN"
cli manifest-delete alice/echo 1.1.0
expect_rc "delete by tag refused by the client" 2
expect_err "delete by tag explained" "manifests are deleted by digest"

# corrupted downloads: nothing may stay on disk
cli pull-file alice/echo "$L1" 299999 "$TMP/short"
expect_rc "expected size too small" 1
expect_err "more bytes than expected" "sent more than the expected 299999 bytes"
no_file "nothing left (size too small)" "$TMP/short"
cli pull-file alice/echo "$L1" 300001 "$TMP/long"
expect_rc "expected size too large" 1
expect_err "fewer bytes than expected" "got 300000 bytes, expected 300001"
no_file "nothing left (size too large)" "$TMP/long"
cli pull-file alice/echo "$L1" 300000 "$TMP/layer.pulled"
expect_rc "pull over an existing file" 0
BLOB=$(registry_blob_path "$L1")
if [ -f "$BLOB" ]; then pass; else fail "blob data file at $BLOB"; fi
printf 'X' | dd of="$BLOB" bs=1 seek=1000 conv=notrunc status=none
cli pull-file alice/echo "$L1" 300000 "$TMP/tampered"
expect_rc "tampered blob" 1
expect_err "tampered blob detected" "not to its digest; download refused"
no_file "nothing left (tampered)" "$TMP/tampered"
cli pull-buffer alice/echo "$L1" 300000
expect_rc "tampered blob into memory" 1
# checked this late so the registry has long logged every earlier request
expect_eq "the registry saw one upload of the blob pushed twice" 1 "$(grep -c "http.request.method=PUT.*digest=$L1" "$REGLOG")"
registry_stop

# ============================================================ A2: relative Locations
echo "# A2: relativeurls"
registry_start --relative || exit 1
loc=$(curl -s -D - -o /dev/null -X POST "$REG_URL/v2/alice/rel/blobs/uploads/" | tr -d '\r' | grep -i '^location:')
case $loc in "Location: /v2/"*) pass ;; *) fail "relativeurls gives a relative Location: $loc" ;; esac
cli push-file alice/rel "$ART/layer.bin"
expect_rc "monolithic push, relative Location" 0
cli --chunk 100000 push-file alice/rel "$ART/layer2.bin"
expect_rc "chunked push, relative Locations" 0
cli pull-file alice/rel "$L2" 200001 "$TMP/rel.pulled"
same_file "relative-Location blob round trip" "$ART/layer2.bin" "$TMP/rel.pulled"
registry_stop

# ============================================================ S: skopeo
if command -v skopeo >/dev/null 2>&1; then
    echo "# S: skopeo"
    registry_start || exit 1
    cli push-file alice/echo "$ART/layer.bin"
    cli push-buffer alice/echo "$ART/config.json"
    cli manifest-put alice/echo 1.0.0 "$OCI" "$ART/m1.json"
    expect_rc "push for skopeo" 0
    timeout 60 skopeo inspect --raw --tls-verify=false "docker://$REG_HOSTPORT/alice/echo:1.0.0" > "$TMP/skopeo.raw" 2>"$TMP/skopeo.err"
    # skopeo prints the raw manifest followed by a newline of its own
    if cmp -s <(printf '%s' "$(cat "$TMP/skopeo.raw")") "$ART/m1.json"; then pass; else
        fail "skopeo inspect --raw differs from the pushed manifest: $(cat "$TMP/skopeo.raw" "$TMP/skopeo.err")"; fi

    # an OCI layout directory written by hand, copied into the registry by skopeo
    LAY=$TMP/layout
    mkdir -p "$LAY/blobs/sha256"
    head -c 4096 /dev/urandom > "$TMP/s.layer"
    printf '{"namespace":"carol","name":"tool","version":"2.0.0"}' > "$TMP/s.config"
    mkmanifest "$TMP/s.config" "$TMP/s.layer" "$TMP/s.manifest"
    for f in s.layer s.config s.manifest; do
        cp "$TMP/$f" "$LAY/blobs/sha256/$(sha256sum "$TMP/$f" | cut -d' ' -f1)"
    done
    printf '{"imageLayoutVersion": "1.0.0"}' > "$LAY/oci-layout"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"%s","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"2.0.0"}}]}' \
        "$OCI" "$(sha "$TMP/s.manifest")" "$(size "$TMP/s.manifest")" > "$LAY/index.json"
    if timeout 60 skopeo copy -q --dest-tls-verify=false "oci:$LAY:2.0.0" "docker://$REG_HOSTPORT/carol/tool:2.0.0" >"$TMP/skopeo.err" 2>&1; then
        pass
    else
        fail "skopeo copy oci: -> registry: $(cat "$TMP/skopeo.err")"
    fi
    cli manifest-get carol/tool 2.0.0 "$TMP/s.got"
    expect_rc "our client reads what skopeo pushed" 0
    same_file "skopeo kept the manifest bytes" "$TMP/s.manifest" "$TMP/s.got"
    cli pull-file carol/tool "$(sha "$TMP/s.layer")" 4096 "$TMP/s.layer.got"
    expect_rc "pull skopeo's layer" 0
    same_file "skopeo's layer" "$TMP/s.layer" "$TMP/s.layer.got"
    cli pull-buffer carol/tool "$(sha "$TMP/s.config")" "$(size "$TMP/s.config")"
    same_file "skopeo's config" "$TMP/s.config" "$TMP/out"
    registry_stop
else
    fail "skopeo is not installed (tools/install-deps.sh)"
fi

# ============================================================ B: htpasswd
echo "# B: htpasswd"
export DOCFLOW_HOME=$TMP/home-basic
registry_start --auth || exit 1
cli ping
expect_rc "ping with auth on (401 is fine)" 0
cli tags alice/echo
expect_rc "no credentials" 2
expect_err "401 with the login hint" "(401 UNAUTHORIZED); run docflow-hub login $REG_URL"
cli push-file alice/echo "$ART/layer.bin"
expect_rc "push without credentials" 2
expect_err "push: login hint" "run docflow-hub login $REG_URL"

cli -u alice -p wrong login
expect_rc "login with a wrong password" 2
expect_err "refused" "the registry refused the password of user alice"
if [ ! -e "$DOCFLOW_HOME/auth.json" ]; then pass; else fail "auth.json written after a failed login"; fi

echo s3cret | "$CLI" --url "$REG_URL" -u alice --password-stdin login >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc "login" 0
expect_eq "auth.json mode" 600 "$(stat -c %a "$DOCFLOW_HOME/auth.json" 2>/dev/null)"
expect_eq "DOCFLOW_HOME mode" 700 "$(stat -c %a "$DOCFLOW_HOME")"
if grep -q "\"$REG_HOSTPORT\"" "$DOCFLOW_HOME/auth.json" && ! grep -q s3cret "$DOCFLOW_HOME/auth.json"; then
    pass; else fail "auth.json content: $(cat "$DOCFLOW_HOME/auth.json")"; fi

cli -v push-file alice/echo "$ART/layer.bin"
expect_rc "push with the stored login" 0
expect_eq "basic auth sent up front after the ping's challenge: only the ping got a 401" 1 "$(grep -c -- '-> 401' "$TMP/err")"
cli push-buffer alice/echo "$ART/config.json"
cli manifest-put alice/echo 1.0.0 "$OCI" "$ART/m1.json"
expect_rc "manifest put with the stored login" 0
cli manifest-get alice/echo 1.0.0 "$TMP/b.m1"
same_file "manifest with auth" "$ART/m1.json" "$TMP/b.m1"
cli pull-file alice/echo "$L1" 300000 "$TMP/b.layer"
same_file "blob with auth" "$ART/layer.bin" "$TMP/b.layer"
cli -u alice -p nope tags alice/echo
expect_rc "explicit wrong credentials win over auth.json" 2
expect_err "explicit credentials refused" "refused the credentials of user alice (as given)"
cli -u bob -p b0bpass tags alice/echo
expect_rc "another valid user" 0
if command -v skopeo >/dev/null 2>&1; then
    timeout 60 skopeo inspect --raw --tls-verify=false --creds alice:s3cret "docker://$REG_HOSTPORT/alice/echo:1.0.0" > "$TMP/skopeo.raw" 2>&1
    if cmp -s <(printf '%s' "$(cat "$TMP/skopeo.raw")") "$ART/m1.json"; then pass; else fail "skopeo --creds: $(cat "$TMP/skopeo.raw")"; fi
fi

cli logout
expect_rc "logout" 0
cli tags alice/echo
expect_rc "after logout" 2
expect_err "after logout: login hint" "run docflow-hub login"
cli logout
expect_rc "logout again" 2
expect_err "not logged in" "not logged in to $REG_URL"
registry_stop

# ============================================================ C: bearer tokens
echo "# C: bearer tokens"
export DOCFLOW_HOME=$TMP/home-bearer
if command -v openssl >/dev/null 2>&1; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=docflow-test-token \
        -keyout "$TMP/token.key" -out "$TMP/token.crt" >/dev/null 2>&1
    TOKLOG=$TMP/token.log
    : > "$TOKLOG"
    start_helper TOKEN_PORT token-server --cert "$TMP/token.crt" --key "$TMP/token.key" \
        --issuer docflow-test-issuer --service docflow-registry --users alice:s3cret,bob:b0bpass --log "$TOKLOG"
    registry_start --token "http://127.0.0.1:$TOKEN_PORT/token" docflow-registry docflow-test-issuer "$TMP/token.crt" || exit 1
    cli tags alice/tool
    expect_rc "bearer: no credentials" 2
    expect_err "bearer: the token service wants a login" "wants credentials (401): run docflow-hub login $REG_URL"
    cli -u alice -p wrong login
    expect_rc "bearer: login with a wrong password" 2
    expect_err "bearer: refused by the token service" "refused the credentials of user alice"
    if [ ! -e "$DOCFLOW_HOME/auth.json" ]; then pass; else fail "bearer: auth.json after a failed login"; fi
    cli -u alice -p s3cret login
    expect_rc "bearer: login" 0
    expect_eq "bearer: auth.json mode" 600 "$(stat -c %a "$DOCFLOW_HOME/auth.json" 2>/dev/null)"

    : > "$TOKLOG"
    cli -v --chunk 65536 push-file alice/tool "$ART/layer2.bin"
    expect_rc "bearer: chunked push" 0
    expect_eq "bearer: one token per scope for HEAD, POST, 4 PATCH, PUT" 2 "$(wc -l < "$TOKLOG")"
    # the registry names the actions in map order: pull,push or push,pull
    if grep -q 'scope=repository:alice/tool:pull$' "$TOKLOG" && grep -Eq 'scope=repository:alice/tool:(pull,push|push,pull)$' "$TOKLOG"; then
        pass; else fail "bearer: token scopes: $(cat "$TOKLOG")"; fi
    expect_eq "bearer: 401s only for the ping and the first request of each scope" 3 "$(grep -c -- '-> 401' "$TMP/err")"
    cli push-buffer alice/tool "$ART/config2.json"
    cli manifest-put alice/tool 1.0.0 "$OCI" "$ART/m2.json"
    expect_rc "bearer: manifest put" 0
    cli manifest-get alice/tool 1.0.0 "$TMP/c.m2"
    same_file "bearer: manifest" "$ART/m2.json" "$TMP/c.m2"
    cli pull-file alice/tool "$L2" 200001 "$TMP/c.layer"
    same_file "bearer: blob" "$ART/layer2.bin" "$TMP/c.layer"
    cli tags alice/tool
    expect_out "bearer: tags" "1.0.0"
    cli push-buffer bob/tool "$ART/config2.json"
    expect_rc "bearer: push into another user's namespace" 2
    expect_err "bearer: not granted" "user alice is not granted repository:bob/tool:"
    cli -u bob -p b0bpass push-buffer bob/tool "$ART/config2.json"
    expect_rc "bearer: bob pushes into his own namespace" 0
    registry_stop
    stop_helpers
else
    fail "openssl is needed for the bearer and TLS phases"
fi

# ============================================================ T: TLS
echo "# T: TLS"
export DOCFLOW_HOME=$TMP/home-tls
if command -v openssl >/dev/null 2>&1; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
        -keyout "$TMP/tls.key" -out "$TMP/tls.crt" >/dev/null 2>&1
    registry_start --tls "$TMP/tls.crt" "$TMP/tls.key" || exit 1
    cli ping
    expect_rc "https with an unknown CA" 1
    expect_err "untrusted certificate explained" "the TLS certificate is not trusted"
    expect_err "untrusted certificate: what to do" "--ca-cert FILE"
    cli --ca-cert "$TMP/tls.crt" push-file alice/tls "$ART/layer.bin"
    expect_rc "https push with --ca-cert" 0
    cli --ca-cert "$TMP/tls.crt" pull-file alice/tls "$L1" 300000 "$TMP/t.layer"
    same_file "https round trip" "$ART/layer.bin" "$TMP/t.layer"
    cli --insecure exists alice/tls "$L1"
    expect_out "https with --insecure" yes
    "$CLI" --url "http://$REG_HOSTPORT" ping >"$TMP/out" 2>"$TMP/err"
    RC=$?
    expect_rc "http:// to the https port" 2
    expect_err "http to https explained" "use https://"
    registry_stop
fi

# ============================================================ F: fake registry
echo "# F: pagination, redirects, stalls"
export DOCFLOW_HOME=$TMP/home-fake
head -c 100000 /dev/urandom > "$TMP/f.blob"
FB=$(sha "$TMP/f.blob")
start_helper FAKE_PORT fake-registry --blob "$TMP/f.blob"
REG_URL=http://127.0.0.1:$FAKE_PORT
cli tags pag/ed
expect_rc "paginated tags" 0
expect_eq "all pages, relative then absolute Link" "a b c d e" "$(tr '\n' ' ' < "$TMP/out" | sed 's/ $//')"
cli tags loop/ed
expect_rc "a Link to the same page" 1
expect_err "loop detected" "the next page link points to itself"
cli pull-file red/irect "$FB" 100000 "$TMP/f.got"
expect_rc "blob behind a redirect" 0
same_file "redirected blob" "$TMP/f.blob" "$TMP/f.got"
cli pull-file red/outside "$FB" 100000 "$TMP/f.out"
expect_rc "redirect to plain http off loopback" 2
expect_err "refused by policy" "blob redirect: plain http to storage.example.invalid is refused"
no_file "nothing left (redirect refused)" "$TMP/f.out"
cli pull-file too/big "$FB" 100000 "$TMP/f.big"
expect_rc "a blob longer than announced" 1
expect_err "longer than announced" "sent more than the expected 100000 bytes"
no_file "nothing left (too big)" "$TMP/f.big"
start=$(date +%s)
DOCFLOW_HUB_LOW_SPEED_TIME=2 cli pull-file stall/ed "$FB" 100000 "$TMP/f.stall"
took=$(( $(date +%s) - start ))
expect_rc "a stalled transfer fails" 1
expect_err "stall reported as a timeout" "timed out (no progress for 2 s"
no_file "nothing left (stalled)" "$TMP/f.stall"
if [ "$took" -lt 20 ]; then pass; else fail "the stall took $took s to detect"; fi
"$CLI" --url http://127.0.0.1:1 ping >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc "nothing listening" 1
expect_err "connection refused explained" "registry http://127.0.0.1:1 is not reachable"
"$CLI" --url http://registry.example.invalid ping >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc "plain http off loopback" 2
expect_err "plain http refused" "plain http to registry.example.invalid is refused"
stop_helpers

finish

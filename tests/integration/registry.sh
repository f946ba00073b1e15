# registry.sh -- a real OCI registry for the hub tests (sourced, not run):
# Debian's docker-registry (CNCF distribution 2.8) on a free loopback port,
# with a temporary storage directory and config, stopped when the test exits.
#
#   registry_start [--auth] [--token REALM SERVICE ISSUER CERT] [--relative]
#                  [--tls CERT KEY]
#       --auth      htpasswd (bcrypt: 2.8 silently ignores other hashes) with
#                   alice:s3cret and bob:b0bpass
#       --token     bearer tokens from the token service at REALM, whose
#                   signing certificate is CERT (rootcertbundle)
#       --relative  relativeurls: upload Locations come back as /v2/...
#       --tls       https with this certificate and key
#     Sets REG_URL (http[s]://127.0.0.1:PORT), REG_HOSTPORT, REG_PORT,
#     REG_DIR (config.yml, registry.log, store/), REG_STORE, REG_PID, and
#     waits until GET /v2/ answers 200 or 401.
#   registry_stop           stops it (also run on exit)
#   registry_free_port      prints a free loopback port
#   registry_blob_path DIGEST   the blob's data file inside REG_STORE
#
# How the registry is started without systemd, and why http.secret is fixed,
# is in shared/notes/oci-registry.md. A watchdog stops the registry if the test
# shell dies without running its EXIT trap (SIGKILL, ctest timeout).

REG_PID=""
REG_WATCHDOG=""

registry_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

registry_blob_path() {
    local hex=${1#sha256:}
    printf '%s/docker/registry/v2/blobs/sha256/%s/%s/data' "$REG_STORE" "${hex:0:2}" "$hex"
}

# _registry_config FILE PORT AUTH_YAML TLS_YAML RELATIVE
_registry_config() {
    {
        printf 'version: 0.1\nlog:\n  level: info\n  formatter: text\n'
        printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$REG_STORE"
        printf 'http:\n  addr: 127.0.0.1:%s\n' "$2"
        # fixed: a random secret would make upload _state tokens die on restart
        printf '  secret: docflow-test-not-secret\n'
        [ "$5" = 1 ] && printf '  relativeurls: true\n'
        printf '%s' "$4"
        printf '%s' "$3"
    } > "$1"
}

registry_start() {
    local auth="" tls="" relative=0 scheme=http
    command -v docker-registry >/dev/null 2>&1 ||
        { echo "docker-registry is not installed (tools/install-deps.sh installs it)" >&2; return 1; }
    REG_DIR=$(mktemp -d "${TMP:-/tmp}/registry.XXXXXX")
    REG_STORE=$REG_DIR/store
    while [ $# -gt 0 ]; do
        case $1 in
        --auth)
            htpasswd -Bbn alice s3cret > "$REG_DIR/htpasswd" 2>/dev/null &&
                htpasswd -Bbn bob b0bpass >> "$REG_DIR/htpasswd" 2>/dev/null ||
                { echo "htpasswd (apache2-utils) is needed for --auth" >&2; return 1; }
            auth=$(printf 'auth:\n  htpasswd:\n    realm: docflow-test\n    path: %s\n' "$REG_DIR/htpasswd")
            auth+=$'\n'
            shift ;;
        --token)
            auth=$(printf 'auth:\n  token:\n    realm: %s\n    service: %s\n    issuer: %s\n    rootcertbundle: %s\n' "$2" "$3" "$4" "$5")
            auth+=$'\n'
            shift 5 ;;
        --relative) relative=1; shift ;;
        --tls)
            tls=$(printf '  tls:\n    certificate: %s\n    key: %s\n' "$2" "$3")
            tls+=$'\n'
            scheme=https
            shift 3 ;;
        *) echo "registry_start: unknown option $1" >&2; return 1 ;;
        esac
    done
    local attempt code
    for attempt in 1 2 3; do # a free port can be taken between the check and the bind
        REG_PORT=$(registry_free_port)
        REG_HOSTPORT=127.0.0.1:$REG_PORT
        REG_URL=$scheme://$REG_HOSTPORT
        _registry_config "$REG_DIR/config.yml" "$REG_PORT" "$auth" "$tls" "$relative"
        docker-registry serve "$REG_DIR/config.yml" > "$REG_DIR/registry.log" 2>&1 &
        REG_PID=$!
        (   # the watchdog: outlives a SIGKILLed test shell, stops the registry
            while kill -0 "$$" 2>/dev/null && kill -0 "$REG_PID" 2>/dev/null; do sleep 1; done
            kill "$REG_PID" 2>/dev/null
        ) >/dev/null 2>&1 &
        REG_WATCHDOG=$!
        for _ in $(seq 1 100); do
            code=$(curl -s -k -o /dev/null -w '%{http_code}' --connect-timeout 2 --max-time 5 "$REG_URL/v2/" 2>/dev/null)
            case $code in 200|401) return 0 ;; esac
            kill -0 "$REG_PID" 2>/dev/null || break
            sleep 0.1
        done
        registry_stop
    done
    echo "docker-registry did not start; its log:" >&2
    cat "$REG_DIR/registry.log" >&2
    return 1
}

registry_stop() {
    [ -n "$REG_WATCHDOG" ] && kill "$REG_WATCHDOG" 2>/dev/null
    REG_WATCHDOG=""
    [ -n "$REG_PID" ] || return 0
    kill "$REG_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$REG_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$REG_PID" 2>/dev/null
    wait "$REG_PID" 2>/dev/null
    REG_PID=""
}

# Stop the registry on exit, then run whatever EXIT trap was there before
# (lib.sh removes $TMP in its own).
_registry_prev_exit=$(trap -p EXIT)
_registry_on_exit() {
    registry_stop
    if [ -n "$_registry_prev_exit" ]; then
        eval "set -- $_registry_prev_exit"
        eval "$3"
    fi
}
trap _registry_on_exit EXIT

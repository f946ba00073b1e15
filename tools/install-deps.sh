#!/bin/sh
# install-deps.sh: installs the Debian 12 packages docflow's build and tests need.
# Idempotent and non-interactive: it only calls apt when something is missing,
# so running it on every build costs a dpkg query. Needs root (or sudo) then.
set -eu

PKGS="build-essential cmake pkg-config ca-certificates
libltdl-dev libyaml-dev libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev
libopenblas-dev liburing-dev libcunit1-dev libjansson-dev libcurl4-openssl-dev
libarchive-dev libssl-dev
protobuf-compiler python3 python3-protobuf
docker-registry apache2-utils skopeo curl
chromium"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

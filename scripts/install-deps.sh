#!/usr/bin/env bash
# Installs what Arca's tests need on Debian: etcd, SoftHSM2, PostgreSQL, openssl, Go (benchmark tools),
# then the npm dependencies. Idempotent: only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
[ -e /usr/lib/softhsm/libsofthsm2.so ] || need+=(softhsm2)
command -v pkcs11-tool >/dev/null 2>&1 || need+=(opensc)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v wrk >/dev/null 2>&1 || need+=(wrk) # HTTP benchmarks: the load generator in a separate process
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils) # arca check -o junit test
[ -x /usr/bin/chromium ] || need+=(chromium) # web UI browser tests (playwright-core drives Debian's Chromium)
# The KMS plugin tests and benchmark build the Go kms-load/kms-echo tools (tools/kms-load/build.sh).
for p in golang-go golang-google-grpc-dev golang-goprotobuf-dev protobuf-compiler; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  # policy-rc.d (exit 101) keeps apt from starting etcd/postgresql services on their default ports.
  removepol=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null; $SUDO chmod +x /usr/sbin/policy-rc.d; removepol=1
  fi
  echo "[deps] apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  [ "$removepol" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
fi

# better-sqlite3 and pkcs11js build from source (no prebuilt download here): node-gyp needs local headers.
[ -d /usr/include/node ] && export npm_config_nodedir="${npm_config_nodedir:-/usr}"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[deps] npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

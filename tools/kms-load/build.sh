#!/usr/bin/env bash
# Builds kms-load and kms-echo (tools/kms-load/README.md) with Debian's Go packages, offline: no Go
# modules, no network. The protobuf/gRPC code is generated from the plugin's own proto
# (src/grpc/proto/kms-v2.proto), so the tools and the plugin cannot disagree on the wire.
# Usage: tools/kms-load/build.sh OUT_DIR   → OUT_DIR/kms-load, OUT_DIR/kms-echo
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
for p in golang-go golang-google-grpc-dev golang-goprotobuf-dev protobuf-compiler; do
  dpkg -s "$p" >/dev/null 2>&1 || { echo "build.sh: Debian package $p is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# GOPATH layout: the generated package lives at its go_package path (k8s.io/kms/apis/v2).
mkdir -p "$work/src/arca-tools"
protoc -I "$repo/src/grpc/proto" --go_out=plugins=grpc:"$work/src" "$repo/src/grpc/proto/kms-v2.proto"
cp -r "$here/cmd" "$work/src/arca-tools/"
mkdir -p "$out"
# GOPATH mode over /usr/share/gocode (where Debian's golang-*-dev packages put their sources).
export GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOCACHE="${GOCACHE:-$work/cache}" GOFLAGS= GOPROXY=off
(cd "$work/src/arca-tools" && go build -o "$out/kms-load" ./cmd/kms-load && go build -o "$out/kms-echo" ./cmd/kms-echo)
echo "built $out/kms-load $out/kms-echo"

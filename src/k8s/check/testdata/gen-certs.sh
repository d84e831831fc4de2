#!/usr/bin/env bash
# Regenerates the fixture certificates in pki/ (public certs only; the CA keys are thrown away).
# Validity: CAs 3650 days, leaves 3000 days; the fixtures pin "now" (base.yaml) inside that window.
set -euo pipefail
cd "$(dirname "$0")/pki"
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$t/$1.key" -out "$1.crt" -days 3650 -subj "/CN=$2" 2>/dev/null; }
leaf() { # name ca subj ext
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$t/leaf.key" -out "$t/leaf.csr" -subj "$3" 2>/dev/null
  printf '%b' "$4" > "$t/ext"
  openssl x509 -req -in "$t/leaf.csr" -CA "$2.crt" -CAkey "$t/$2.key" -CAcreateserial -CAserial "$t/serial" -days 3000 -out "$1.crt" -extfile "$t/ext" 2>/dev/null
}
ca ca kubernetes
ca etcd-ca etcd-ca
leaf apiserver ca /CN=kube-apiserver 'subjectAltName=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.96.0.1,IP:10.0.0.11\nextendedKeyUsage=serverAuth\n'
leaf etcd-server etcd-ca /CN=cp1 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:10.0.0.11\nextendedKeyUsage=serverAuth,clientAuth\n'
leaf etcd-server-nosan etcd-ca /CN=cp1 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
leaf apiserver-kubelet-client ca '/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client' 'extendedKeyUsage=clientAuth\n'
leaf masters-client ca '/O=system:masters/CN=kube-apiserver-kubelet-client' 'extendedKeyUsage=clientAuth\n'
leaf kubelet-selfsigned-dummy ca /CN=cp1-serving 'extendedKeyUsage=serverAuth\n'
# a self-signed kubelet serving cert (<host>@<ts> style)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$t/k.key" -out kubelet-selfsigned.crt -days 3650 -subj "/CN=cp1@1700000000" 2>/dev/null
rm -f kubelet-selfsigned-dummy.crt

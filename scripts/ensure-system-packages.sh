#!/usr/bin/env bash
# Installs the Debian packages Airlock needs here when they are missing: git (git daemon
# serves the demo repository; the worker clones and pushes), bubblewrap (the worker runs
# repository test commands in a bwrap sandbox), openssl (the demo and the tests make a
# throwaway private CA for TLS on the worker gateway) and, for the tests only, PostgreSQL (they
# start their own throwaway cluster from its binaries; the demo embeds PostgreSQL), tinyproxy
# (the worker's control-plane channel is tested through a real HTTP CONNECT proxy), chromium
# (the dashboard's browser tests drive Debian's build through playwright-core), nats-server
# (replicas of the control plane share work through NATS JetStream) and strace (the worker egress
# e2e records every socket the worker and its children open), and for the deployment checks
# golang-go with Debian's sprig and sigs.k8s.io/yaml (Helm's template engine renders the charts),
# prometheus (promtool checks the alert rules) and systemd (systemd-analyze verifies the units),
# and iproute2 (the air-gapped e2e brings up loopback in a network namespace of its own);
# for the benchmarks,
# PostgreSQL, nats-server and redis-server (BullMQ, one of the queues dispatch is compared with).
# For the images (scripts/build-images.sh): mmdebstrap (a Debian root filesystem from Debian's
# packages) and buildah (OCI images with no container engine).
# Usage: ensure-system-packages.sh [tests|demo|bench|images]   (default: tests)
# Only acts as root with apt-get; otherwise says what to install.
set -euo pipefail
purpose=${1:-tests}
missing=()
if [ "$purpose" = tests ]; then
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  command -v tinyproxy >/dev/null || missing+=(tinyproxy)
  command -v chromium >/dev/null || missing+=(chromium)
  command -v strace >/dev/null || missing+=(strace)
  command -v go >/dev/null || missing+=(golang-go)
  [ -d /usr/share/gocode/src/github.com/Masterminds/sprig ] || missing+=(golang-github-masterminds-sprig-dev)
  [ -d /usr/share/gocode/src/sigs.k8s.io/yaml ] || missing+=(golang-k8s-sigs-yaml-dev)
  command -v promtool >/dev/null || missing+=(prometheus)
  command -v systemd-analyze >/dev/null || missing+=(systemd)
  command -v ip >/dev/null || missing+=(iproute2)
fi
if [ "$purpose" = tests ] || [ "$purpose" = bench ]; then
  command -v nats-server >/dev/null || missing+=(nats-server)
fi
if [ "$purpose" = images ]; then
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v buildah >/dev/null || missing+=(buildah)
fi
if [ "$purpose" = bench ]; then
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
fi
command -v git >/dev/null || missing+=(git)
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v openssl >/dev/null || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing system packages: ${missing[*]} — install them (e.g. sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi

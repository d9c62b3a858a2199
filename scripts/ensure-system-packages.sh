#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing: PostgreSQL (the tests
# start their own throwaway cluster from its binaries), git (git daemon serves the demo
# repository) and bubblewrap (the worker runs repository test commands in a bwrap
# sandbox). Only acts as root with apt-get; otherwise says what to install.
set -euo pipefail
missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v git >/dev/null || missing+=(git)
command -v bwrap >/dev/null || missing+=(bubblewrap)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing system packages: ${missing[*]} — install them (e.g. sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi

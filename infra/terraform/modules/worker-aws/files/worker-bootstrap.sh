#!/bin/bash
# Airlock worker, first boot: run once by the user data (modules/worker-aws), as root.
# The user data has already written this script, its library, the units, worker.yml and
# the CA certificates; this installs Node.js 24 and the worker, mounts the data volume,
# fetches the secrets, enrolls once, and starts airlock-worker.service.
set -euo pipefail

AIRLOCK_PARAMS=$1
# shellcheck source=bootstrap-lib.sh
source /usr/local/libexec/airlock/bootstrap-lib.sh

AWS_REGION=$(param AWS_REGION)
export AWS_REGION

log "worker bootstrap starting"

if [[ "$(param INSTALL_OS_PACKAGES)" == true ]]; then
  case "$(param OS_FAMILY)" in
    debian12) install_os_packages debian12 git bubblewrap util-linux ca-certificates curl tar xz-utils awscli e2fsprogs openssl ;;
    al2023) install_os_packages al2023 git bubblewrap util-linux ca-certificates tar xz e2fsprogs openssl ;;
  esac
fi
require_commands aws curl tar xz sha256sum base64 od git bwrap prlimit mkfs.ext4 blkid lsblk findmnt runuser systemctl
[[ "$(param INSTALL_SOURCE)" != offline-bundle ]] || require_commands openssl comm systemd-sysusers systemd-tmpfiles

ensure_airlock_user

# stateDir and workspaceDir live on the encrypted data volume; the unit's StateDirectory
# (airlock/worker) is the same directory, so systemd finds it there.
mount_data_volume /var/lib/airlock
chown airlock:airlock /var/lib/airlock
chmod 0700 /var/lib/airlock
install -d -m 0700 -o airlock -g airlock /var/lib/airlock/worker /var/lib/airlock/worker/state /var/lib/airlock/worker/workspace

# Configuration: readable by the service account, writable by root alone.
chown root:airlock /etc/airlock /etc/airlock/worker.yml
chmod 0750 /etc/airlock
chmod 0640 /etc/airlock/worker.yml
chmod 0644 /etc/airlock/control-plane-ca.pem
# No mirror CA given: the user data wrote an empty file; the AMI's CA store applies.
grep -q -- "-----BEGIN CERTIFICATE-----" /etc/airlock/artifact-mirror-ca.pem || rm -f /etc/airlock/artifact-mirror-ca.pem

grep -q -- "-----BEGIN PUBLIC KEY-----" /etc/airlock/release-key.pub || rm -f /etc/airlock/release-key.pub
case "$(param INSTALL_SOURCE)" in
  offline-bundle) install_offline_bundle "$(param OFFLINE_BUNDLE_URL)" "$(param OFFLINE_BUNDLE_SHA256)" worker ;;
  mirror)
    install_node "$(param NODE_URL)" "$(param NODE_SHA256)"
    install_app "$(param APP_BUNDLE_URL)" "$(param APP_BUNDLE_SHA256)" /opt/airlock/worker
    ;;
  *) die "unknown install source $(param INSTALL_SOURCE)" ;;
esac
# The offline bundle installs its own copy of the unit; the module's drop-in applies to either.

# The secrets the configuration names; the same script runs again before every start.
/usr/local/libexec/airlock/worker-secrets

# Enrollment, once: the identity lives on the data volume. Each token in the secret is
# tried in turn (exit 4: refused as used, expired or unknown, or the control plane was not
# reached), so one secret can serve a whole Auto Scaling group.
enroll_once() {
  local tokens token status
  tokens=$(secret_string "$(param ENROLLMENT_TOKEN_SECRET_ARN)") || return 1
  install -d -m 0700 -o airlock -g airlock /run/airlock-enroll
  for token in $tokens; do
    printf '%s\n' "$token" >/run/airlock-enroll/token
    chown airlock:airlock /run/airlock-enroll/token
    chmod 0600 /run/airlock-enroll/token
    status=0
    # The configuration is loaded as the daemon loads it: with the secret variables set
    # (apiKeyEnv and tokenEnv must name variables that exist), read as shell assignments.
    (
      set -a
      # shellcheck source=/dev/null
      source /etc/airlock/worker-secrets.env
      set +a
      exec runuser -u airlock -- /usr/bin/node /opt/airlock/worker/main.js enroll --config /etc/airlock/worker.yml --token-file /run/airlock-enroll/token
    ) || status=$?
    case "$status" in
      0 | 3) break ;;
      4) log "enrollment token refused or control plane unreachable; trying the next token" ;;
      *)
        rm -rf /run/airlock-enroll
        die "enroll exited $status (2: worker.yml invalid)"
        ;;
    esac
  done
  rm -rf /run/airlock-enroll
  [[ -e /var/lib/airlock/worker/state/identity.json ]]
}
if [[ ! -e /var/lib/airlock/worker/state/identity.json ]]; then
  set -f # tokens are split on whitespace, never globbed
  retry 6 enroll_once || die "no token in the enrollment secret enrolled this worker; put fresh tokens in it and replace the instance"
  set +f
  log "enrolled: $(tr -d '\n ' </var/lib/airlock/worker/state/identity.json)"
fi

systemctl daemon-reload
systemctl enable --now airlock-worker-lifecycle.service
systemctl enable --now airlock-worker.service
log "worker bootstrap done: airlock-worker.service started"

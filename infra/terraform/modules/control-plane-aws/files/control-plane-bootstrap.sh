#!/bin/bash
# Airlock control plane, first boot: run once by the user data (modules/control-plane-aws),
# as root. The user data has already written this script, its library, the units, the
# RDS certificate bundle and the parameters; this installs Node.js 24 and the control
# plane, writes its secrets and environment, and starts airlock-control-plane.service.
set -euo pipefail

AIRLOCK_PARAMS=$1
# shellcheck source=bootstrap-lib.sh
source /usr/local/libexec/airlock/bootstrap-lib.sh

AWS_REGION=$(param AWS_REGION)
export AWS_REGION

log "control-plane bootstrap starting"

if [[ "$(param INSTALL_OS_PACKAGES)" == true ]]; then
  case "$(param OS_FAMILY)" in
    debian12) install_os_packages debian12 ca-certificates curl tar xz-utils awscli logrotate openssl ;;
    al2023) install_os_packages al2023 ca-certificates tar xz logrotate openssl ;;
  esac
fi
require_commands aws curl tar xz sha256sum base64 od systemctl journalctl
[[ "$(param INSTALL_SOURCE)" != offline-bundle ]] || require_commands openssl comm systemd-sysusers systemd-tmpfiles

ensure_airlock_user
install -d -m 0700 -o airlock -g airlock /var/lib/airlock /var/lib/airlock/control-plane

chown root:airlock /etc/airlock
chmod 0750 /etc/airlock
chmod 0644 /etc/airlock/rds-ca-bundle.pem
# No mirror CA given: the user data wrote an empty file; the AMI's CA store applies.
grep -q -- "-----BEGIN CERTIFICATE-----" /etc/airlock/artifact-mirror-ca.pem || rm -f /etc/airlock/artifact-mirror-ca.pem

grep -q -- "-----BEGIN PUBLIC KEY-----" /etc/airlock/release-key.pub || rm -f /etc/airlock/release-key.pub
case "$(param INSTALL_SOURCE)" in
  offline-bundle) install_offline_bundle "$(param OFFLINE_BUNDLE_URL)" "$(param OFFLINE_BUNDLE_SHA256)" control-plane ;;
  mirror)
    install_node "$(param NODE_URL)" "$(param NODE_SHA256)"
    install_app "$(param APP_BUNDLE_URL)" "$(param APP_BUNDLE_SHA256)" /opt/airlock/control-plane
    ;;
  *) die "unknown install source $(param INSTALL_SOURCE)" ;;
esac

# The credentials and the environment file; the same script runs before every start.
/usr/local/libexec/airlock/control-plane-secrets

ship_journal_to_cloudwatch airlock-control-plane "$(param LOG_GROUP_NAME)"

systemctl daemon-reload
systemctl enable --now airlock-control-plane.service
systemctl enable --now airlock-control-plane-refresh.timer
log "control-plane bootstrap done: airlock-control-plane.service started"

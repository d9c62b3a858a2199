#!/bin/bash
# NATS server for Airlock, first boot: run once by the user data (modules/control-plane-aws),
# as root. The user data has already written the configuration and the unit; this mounts
# the JetStream volume (kept when the instance is replaced), installs nats-server from the
# customer's mirror, and starts nats-server.service.
set -euo pipefail

AIRLOCK_PARAMS=$1
# shellcheck source=bootstrap-lib.sh
source /usr/local/libexec/airlock/bootstrap-lib.sh

AWS_REGION=$(param AWS_REGION)
export AWS_REGION

log "NATS bootstrap starting"

if [[ "$(param INSTALL_OS_PACKAGES)" == true ]]; then
  case "$(param OS_FAMILY)" in
    debian12) install_os_packages debian12 ca-certificates curl tar awscli e2fsprogs logrotate ;;
    al2023) install_os_packages al2023 ca-certificates tar e2fsprogs logrotate ;;
  esac
fi
require_commands aws curl tar sha256sum base64 systemctl journalctl mkfs.ext4 blkid lsblk findmnt

getent group nats >/dev/null || groupadd --system nats
getent passwd nats >/dev/null || useradd --system --gid nats --home-dir /var/lib/nats --no-create-home --shell /usr/sbin/nologin --comment 'NATS server' nats

mount_data_volume /var/lib/nats
chown nats:nats /var/lib/nats
chmod 0750 /var/lib/nats
chown root:nats /etc/nats /etc/nats/nats-server.conf
chmod 0750 /etc/nats
chmod 0640 /etc/nats/nats-server.conf
grep -q -- "-----BEGIN CERTIFICATE-----" /etc/airlock/artifact-mirror-ca.pem || rm -f /etc/airlock/artifact-mirror-ca.pem

work=$(mktemp -d)
fetch_artifact "$(param NATS_TARBALL_URL)" "$work/nats-server.tar.gz"
verify_sha256 "$work/nats-server.tar.gz" "$(param NATS_TARBALL_SHA256)"
rm -rf /usr/local/lib/nats-server
install -d -m 0755 /usr/local/lib/nats-server
tar -xzf "$work/nats-server.tar.gz" -C /usr/local/lib/nats-server --strip-components=1 --no-same-owner
rm -rf "$work"
ln -sfn /usr/local/lib/nats-server/nats-server /usr/local/bin/nats-server
log "installed $(/usr/local/bin/nats-server --version)"

ship_journal_to_cloudwatch nats-server "$(param LOG_GROUP_NAME)"

systemctl daemon-reload
systemctl enable --now nats-server.service
log "NATS bootstrap done: nats-server.service started"

#!/usr/bin/env bash
# Runs the Airlock units under a real systemd on a host where systemd is not PID 1 (a CI
# VM, a container host): boots the host's own systemd as PID 1 of throwaway namespaces, on
# a root that is an overlay of / whose writes go to a tmpfs, installs the units, sysusers
# and tmpfiles files as docs/operations/systemd.md says, and runs lab-checks.sh in there:
# the control plane and the worker started by systemd with every hardening line of their
# units, and each relaxation the worker unit makes shown to be needed by bwrap.
#
# Usage (as root, from anywhere): infra/systemd/lab/systemd-lab.sh [--keep]
# Exit status: 0 when every check passed. Takes a minute or two. --keep leaves the lab
# running afterwards and prints how to enter it (nsenter) and how to remove it.
#
# Kept away from the host: the lab has its own /dev (a tmpfs with a few device nodes), a
# read-only /sys, its own network, and every unit that would change the kernel for the
# whole host is masked (udev, sysctl.d, binfmt, kernel modules). Not kept away: systemd as
# PID 1 may raise the global fs.file-max and fs.nr_open, as it does on every host it boots.
# It leaves behind nothing else: a temporary directory under /tmp and a cgroup in the
# cgroup v2 hierarchy, both removed at the end. The repository is mounted read-only inside.
# The units run from the repository's sources (the only difference from the shipped units,
# by a drop-in each: ExecStart and WorkingDirectory). Use a throwaway machine all the same.
set -euo pipefail

die() {
  echo "systemd-lab: $*" >&2
  exit 2
}

REPO=$(cd "$(dirname "$0")/../../.." && pwd)
KEEP=no
[ "${1:-}" = --keep ] && KEEP=yes
[ "$(id -u)" = 0 ] || die "needs root (it mounts, and boots systemd in namespaces)"
[ "$(ps -p 1 -o comm=)" != systemd ] || die "systemd is PID 1 on this host: install the units and use systemctl/systemd-run directly"
SYSTEMD=/lib/systemd/systemd
[ -x "$SYSTEMD" ] || die "$SYSTEMD not found (install systemd)"
for program in unshare nsenter bwrap prlimit curl openssl runuser; do
  command -v "$program" >/dev/null || die "$program not found"
done
[ -d "$REPO/node_modules/@swc-node/register" ] || die "run npm ci in $REPO first"

# Where cgroup v2 is mounted: the whole hierarchy (unified hosts) or beside v1 (hybrid hosts).
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  CGROUP2=/sys/fs/cgroup
elif [ -f /sys/fs/cgroup/unified/cgroup.procs ]; then
  CGROUP2=/sys/fs/cgroup/unified
else
  die "no cgroup v2 hierarchy mounted"
fi

LAB=$(mktemp -d /tmp/airlock-systemd-lab.XXXXXX)
CGROUP=$CGROUP2/$(basename "$LAB")
PID1=
cleanup() {
  # Killing PID 1 of the namespace ends every process in it, and with them its mounts.
  if [ -n "$PID1" ]; then kill -KILL "$PID1" 2>/dev/null || true; fi
  for _ in $(seq 1 50); do [ -z "$(cat "$CGROUP"/cgroup.procs 2>/dev/null)" ] && break; sleep 0.1; done
  [ -d "$CGROUP" ] && find "$CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true
  rm -rf "$LAB"
}
[ "$KEEP" = yes ] || trap cleanup EXIT
mkdir -p "$LAB/layers" "$LAB/root" "$CGROUP"

cat >"$LAB/inner.sh" <<'INNER'
# PID 1 of fresh pid, mount, uts, ipc, net and cgroup namespaces: builds the lab's root and
# execs systemd on it.
set -eu
LAB=$1
REPO=$2
mount --make-rprivate /
mount -t tmpfs -o mode=0755 lab-layers "$LAB/layers"
mkdir -p "$LAB/layers/upper" "$LAB/layers/work"
mount -t overlay lab-root -o "lowerdir=/,upperdir=$LAB/layers/upper,workdir=$LAB/layers/work" "$LAB/root"
R=$LAB/root
mount -t proc proc "$R/proc"
mount -t sysfs -o ro sysfs "$R/sys"
mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup"
# Its own /dev, as a container manager gives one: the host's devices stay out of reach.
mount -t tmpfs -o mode=0755,nosuid lab-dev "$R/dev"
for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read -r name major minor <<NODE
$node
NODE
  mknod -m 0666 "$R/dev/$name" c "$major" "$minor"
done
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mkdir -p "$R$REPO" "$R/oldroot" "$R/etc/systemd/system"
mount --rbind "$REPO" "$R$REPO"
mount -o remount,bind,ro "$R$REPO"
# What would change the kernel for the whole host, masked (the units' default dependencies
# pull in sysinit.target, which wants them).
for unit in systemd-sysctl.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
  proc-sys-fs-binfmt_misc.mount systemd-modules-load.service modprobe@.service kmod-static-nodes.service \
  systemd-udevd.service systemd-udev-trigger.service systemd-udev-settle.service systemd-udevd-control.socket \
  systemd-udevd-kernel.socket systemd-tmpfiles-setup-dev.service systemd-hwdb-update.service \
  systemd-remount-fs.service systemd-random-seed.service systemd-pstore.service systemd-repart.service \
  systemd-firstboot.service systemd-machine-id-commit.service sys-kernel-debug.mount sys-kernel-tracing.mount \
  sys-kernel-config.mount sys-fs-fuse-connections.mount dev-hugepages.mount; do
  ln -sf /dev/null "$R/etc/systemd/system/$unit"
done
cat >"$R/etc/systemd/system/airlock-lab.target" <<'UNIT'
[Unit]
Description=Airlock systemd lab
Wants=systemd-journald.socket systemd-journald.service
UNIT
cd "$R"
pivot_root . oldroot
umount -l /oldroot
# A container manager's job (systemd does it itself only when not in a container): mounts
# shared, so that what systemd mounts for a unit (its credentials) reaches PID 1's view.
# After pivot_root, which refuses shared mounts.
mount --make-rshared /
exec env container=airlock-lab /lib/systemd/systemd --log-target=journal --show-status=no --unit=airlock-lab.target
INNER

setsid sh -c "echo \$\$ > '$CGROUP/cgroup.procs'; exec unshare --mount --uts --ipc --net --pid --fork --cgroup --kill-child -- sh '$LAB/inner.sh' '$LAB' '$REPO'" </dev/null >"$LAB/boot.log" 2>&1 &

for _ in $(seq 1 100); do
  PID1=$(head -n1 "$CGROUP/init.scope/cgroup.procs" 2>/dev/null || true)
  [ -n "$PID1" ] && break
  sleep 0.2
done
[ -n "$PID1" ] || { cat "$LAB/boot.log" >&2; die "systemd did not start"; }
for _ in $(seq 1 100); do
  state=$(nsenter --target "$PID1" --all -- systemctl is-system-running 2>/dev/null || true)
  case $state in running | degraded) break ;; esac
  sleep 0.2
done
echo "systemd-lab: $(nsenter --target "$PID1" --all -- systemctl --version | head -n1) is PID 1 of the lab (state: $state)"

status=0
nsenter --target "$PID1" --all -- bash "$REPO/infra/systemd/lab/lab-checks.sh" "$REPO" || status=$?
if [ "$KEEP" = yes ]; then
  echo "systemd-lab: kept. Enter: nsenter --target $PID1 --all -- bash"
  echo "systemd-lab: remove: kill -KILL $PID1; find $CGROUP -depth -type d -exec rmdir {} +; rm -rf $LAB"
fi
exit "$status"

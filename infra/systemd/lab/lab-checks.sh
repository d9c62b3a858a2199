#!/usr/bin/env bash
# Runs inside the lab that systemd-lab.sh boots (systemd is PID 1 here, this is root):
# installs the Airlock units as docs/operations/systemd.md says and checks them for real.
# Prints one PASS/FAIL line per check; exits 1 if any failed.
set -uo pipefail
REPO=$1
S=$REPO/infra/systemd
failures=0
pass() { echo "PASS $*"; }
fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}
check() { # check <description> <command…>: PASS when the command succeeds
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
unit_show() { systemctl show -p "$2" --value "$1"; }
status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
wait_inactive() { # wait_inactive <unit> <seconds>
  for _ in $(seq 1 $(($2 * 5))); do
    case $(unit_show "$1" ActiveState) in inactive | failed) return 0 ;; esac
    sleep 0.2
  done
  return 1
}
# A unit's journal since the last mark_journal: the cursor keeps earlier runs' lines out.
JOURNAL_CURSOR=
mark_journal() { JOURNAL_CURSOR=$(journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p'); }
journal_of_last_run() { journalctl -u "$1" --no-pager -o cat ${JOURNAL_CURSOR:+"--after-cursor=$JOURNAL_CURSOR"}; }
# The journal receives a unit's output through a stream, a moment after the process wrote it.
journal_settled() { # journal_settled <unit> <pattern>: waits up to 5 s for a line matching pattern
  for _ in $(seq 1 25); do
    journal_of_last_run "$1" | grep -qE "$2" && return 0
    sleep 0.2
  done
  return 1
}

# --- Install, as the operations guide says --------------------------------------------
install -D -m 0644 "$S/airlock.sysusers.conf" /usr/lib/sysusers.d/airlock.conf
install -D -m 0644 "$S/airlock.tmpfiles.conf" /usr/lib/tmpfiles.d/airlock.conf
systemd-sysusers airlock.conf
systemd-tmpfiles --create airlock.conf
install -m 0644 "$S/airlock-control-plane.service" "$S/airlock-worker.service" /etc/systemd/system/
install -d -m 0700 /etc/credstore
openssl rand -hex 32 >/etc/credstore/airlock-control-plane.kek
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout /etc/credstore/airlock-control-plane.grpc-tls.key -out /etc/credstore/airlock-control-plane.grpc-tls.crt 2>/dev/null
chmod 0600 /etc/credstore/*
# No PostgreSQL in the lab: the control plane's embedded one (DATABASE_URL unset).
grep -v '^DATABASE_URL=' "$S/airlock-control-plane.env.example" >/etc/airlock/control-plane.env
chmod 0600 /etc/airlock/control-plane.env
for app in control-plane worker; do
  mkdir -p "/etc/systemd/system/airlock-$app.service.d"
done
# The one difference from the shipped units: the apps run from the repository's sources.
cat >/etc/systemd/system/airlock-control-plane.service.d/lab-from-source.conf <<EOF
[Service]
ExecStart=
ExecStart=/usr/bin/node -r @swc-node/register apps/control-plane/src/main.ts
WorkingDirectory=$REPO
EOF
cat >/etc/systemd/system/airlock-worker.service.d/lab-from-source.conf <<EOF
[Service]
ExecStart=
ExecStart=/usr/bin/node -r @swc-node/register apps/worker/src/main.ts run --config /etc/airlock/worker.yml
WorkingDirectory=$REPO
EOF
# doctor, under exactly the worker unit's settings: a copy of the unit with another command.
cp /etc/systemd/system/airlock-worker.service /etc/systemd/system/airlock-worker-doctor.service
mkdir -p /etc/systemd/system/airlock-worker-doctor.service.d
cat >/etc/systemd/system/airlock-worker-doctor.service.d/lab-doctor.conf <<EOF
[Service]
ExecStart=
ExecStart=/usr/bin/node -r @swc-node/register apps/worker/src/main.ts doctor --config /etc/airlock/worker.yml
WorkingDirectory=$REPO
Restart=no
EOF
systemctl daemon-reload

# --- The control plane ----------------------------------------------------------------
systemctl start airlock-control-plane.service
for _ in $(seq 1 120); do
  curl -fs -o /dev/null http://127.0.0.1:8080/api/v1/health && break
  systemctl -q is-active airlock-control-plane.service || break
  sleep 0.5
done
check "control plane: GET /api/v1/health answers 200 under the hardened unit" curl -fs -o /dev/null http://127.0.0.1:8080/api/v1/health
check "control plane: GET /api/v1/health/ready answers 200 (embedded PostgreSQL)" curl -fs -o /dev/null http://127.0.0.1:8080/api/v1/health/ready
check "control plane: the gateway serves TLS with the key and certificate loaded as credentials" \
  sh -c 'journalctl -u airlock-control-plane.service -o cat | grep -q "\"grpcTls\":true"'
CP_PID=$(unit_show airlock-control-plane.service MainPID)
check "control plane: runs with no_new_privs, no capabilities, a seccomp filter, in its own user namespace" \
  test "$(status_field "$CP_PID" NoNewPrivs) $(status_field "$CP_PID" CapBnd) $(status_field "$CP_PID" Seccomp) $(awk 'NR==2{print $1}' "/proc/$CP_PID/uid_map")" = "1 0000000000000000 2 10001"

# --- The worker: not enrolled yet, so it must stop (exit 3) and not be restarted ---------
install -m 0644 /etc/credstore/airlock-control-plane.grpc-tls.crt /etc/airlock/control-plane-ca.pem
cat >/etc/airlock/worker.yml <<EOF
controlPlane:
  address: localhost:50051
  tls:
    caFile: /etc/airlock/control-plane-ca.pem
stateDir: /var/lib/airlock/worker/state
workspaceDir: /var/lib/airlock/worker/workspace
health:
  host: 127.0.0.1
  port: 9465
inference:
  endpoints:
    - name: local
      baseUrl: http://127.0.0.1:8000/v1
      model: airlock-sim-coder
EOF
chown root:airlock /etc/airlock/worker.yml
chmod 0640 /etc/airlock/worker.yml
systemctl start airlock-worker.service
wait_inactive airlock-worker.service 60
sleep 12 # longer than RestartSec: a restart would have happened by now
check "worker: not enrolled, it exits 3 and RestartPreventExitStatus keeps it down" \
  test "$(unit_show airlock-worker.service ExecMainStatus) $(unit_show airlock-worker.service NRestarts) $(unit_show airlock-worker.service ActiveState)" = "3 0 failed"

# --- Enrollment, as the airlock user --------------------------------------------------
ADMIN_TOKEN=$(cat /var/lib/airlock/control-plane/bootstrap-admin-token)
curl -fsS -X POST http://127.0.0.1:8080/api/v1/enrollment-tokens -H "Authorization: Bearer $ADMIN_TOKEN" \
  -H 'Content-Type: application/json' -d '{"ttlSeconds":600}' |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).token))' >/etc/airlock/enroll-token
chown airlock /etc/airlock/enroll-token
chmod 0600 /etc/airlock/enroll-token
(cd "$REPO" && runuser -u airlock -- /usr/bin/node -r @swc-node/register apps/worker/src/main.ts enroll --config /etc/airlock/worker.yml --token-file /etc/airlock/enroll-token) >/tmp/enroll.out 2>/tmp/enroll.err
check "worker: enroll as airlock writes its identity into the state directory" test -s /var/lib/airlock/worker/state/identity.json
rm -f /etc/airlock/enroll-token
# Pin the signing keys enroll printed, under controlPlane:.
awk '/^trustedSigningKeys:/{keys=1} keys{print "  " $0}' /tmp/enroll.out >/tmp/pinned-keys.yml
awk 'FNR==NR{keys=keys $0 "\n"; next} {print} /^    caFile:/{printf "%s", keys}' /tmp/pinned-keys.yml /etc/airlock/worker.yml >/tmp/worker.yml
install -m 0640 -o root -g airlock /tmp/worker.yml /etc/airlock/worker.yml

# A local OpenAI-compatible endpoint, so that every readiness check can pass.
(cd "$REPO" && setsid /usr/bin/node -r @swc-node/register apps/inference-sim/src/main.ts --scenarios apps/inference-sim/src/fixtures/ok/basic --host 127.0.0.1 --port 8000 >/tmp/inference-sim.log 2>&1 &)
for _ in $(seq 1 60); do curl -fs -o /dev/null http://127.0.0.1:8000/v1/models && break; sleep 0.5; done

# --- doctor, under the worker unit's settings: every check, the sandbox among them -------
mark_journal
systemctl start airlock-worker-doctor.service
wait_inactive airlock-worker-doctor.service 60
journal_settled airlock-worker-doctor.service '^(PASS|FAIL|WARN) sandbox'
journal_of_last_run airlock-worker-doctor.service | grep -E '^(PASS|FAIL|WARN) ' | sed 's/^/  doctor: /'
check "worker: doctor passes every check under the worker unit (control plane, identity, inference, git, workspace, sandbox)" \
  test "$(unit_show airlock-worker-doctor.service ExecMainStatus)" = 0

# --- run: READY under the unit, then a clean drain on systemctl stop --------------------
systemctl reset-failed airlock-worker.service
systemctl start airlock-worker.service
for _ in $(seq 1 120); do
  curl -fs http://127.0.0.1:9465/healthz 2>/dev/null | grep -q '"state":"READY"' && break
  sleep 0.5
done
check "worker: READY under the hardened unit (every readiness check passed, bwrap's included)" \
  sh -c 'curl -fs http://127.0.0.1:9465/healthz | grep -q "\"state\":\"READY\""'
W_PID=$(unit_show airlock-worker.service MainPID)
check "worker: runs with no_new_privs, an empty bounding set and a seccomp filter" \
  test "$(status_field "$W_PID" NoNewPrivs) $(status_field "$W_PID" CapBnd) $(status_field "$W_PID" Seccomp)" = "1 0000000000000000 2"
systemctl stop airlock-worker.service
check "worker: systemctl stop drains it and it exits 0 (Result=success)" \
  test "$(unit_show airlock-worker.service Result) $(unit_show airlock-worker.service ExecMainStatus)" = "success 0"

# --- Each relaxation of the worker unit is needed: without it the sandbox fails ----------
variant() { # variant <description> <expected journal pattern> <drop-in lines>
  local what=$1 pattern=$2
  printf '[Service]\n%b\n' "$3" >/etc/systemd/system/airlock-worker-doctor.service.d/zz-variant.conf
  systemctl daemon-reload
  systemctl reset-failed airlock-worker-doctor.service 2>/dev/null
  mark_journal
  systemctl start airlock-worker-doctor.service
  wait_inactive airlock-worker-doctor.service 60
  journal_settled airlock-worker-doctor.service "$pattern|sandbox"
  local found
  found=$(journal_of_last_run airlock-worker-doctor.service | grep -E "$pattern" | head -n1)
  if [ -n "$found" ]; then
    pass "$what: ${found:0:160}"
  else
    fail "$what: no line matching $pattern in:"
    journal_of_last_run airlock-worker-doctor.service | tail -n 8 | sed 's/^/    /'
  fi
  rm -f /etc/systemd/system/airlock-worker-doctor.service.d/zz-variant.conf
}
variant "worker with RestrictNamespaces=yes, the sandbox fails" '^FAIL sandbox: .*create new namespace' 'RestrictNamespaces=yes'
variant "worker without AF_NETLINK, the sandbox fails" '^FAIL sandbox: .*NETLINK' 'RestrictAddressFamilies=\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'
variant "worker without @mount in its system call filter, the sandbox fails" '^FAIL sandbox: .*Operation not permitted' 'SystemCallFilter=\nSystemCallFilter=@system-service'
variant "worker with ProcSubset=pid, the sandbox fails" '^FAIL sandbox: .*overflowuid' 'ProcSubset=pid'
variant "worker with MemoryDenyWriteExecute=yes, node aborts at start" 'Fatal error|Check failed|mprotect' 'MemoryDenyWriteExecute=yes'
variant "worker with PrivateUsers=yes (left off), the sandbox still starts" '^PASS sandbox' 'PrivateUsers=yes'
variant "worker with ProtectKernelTunables=yes and ProtectKernelLogs=yes (left off), the sandbox still starts on this systemd" '^PASS sandbox' 'ProtectKernelTunables=yes\nProtectKernelLogs=yes'

# --- The control plane stops cleanly ----------------------------------------------------
systemctl stop airlock-control-plane.service
check "control plane: systemctl stop ends it with exit 0 (Result=success)" \
  test "$(unit_show airlock-control-plane.service Result) $(unit_show airlock-control-plane.service ExecMainStatus)" = "success 0"

echo "systemd-lab: $failures check(s) failed"
[ "$failures" = 0 ]

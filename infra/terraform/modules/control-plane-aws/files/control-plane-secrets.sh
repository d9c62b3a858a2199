#!/bin/bash
# Writes what airlock-control-plane.service reads as root before it starts, at first boot
# and before every start (airlock-control-plane-secrets.service):
# - the systemd credentials the unit loads from /etc/credstore (KEK, gateway certificate
#   and key, and the optional client CA, OIDC client secret and bootstrap token);
# - /etc/airlock/control-plane.env, with DATABASE_URL built from the secret RDS manages.
# RDS rotates that password (every 7 days unless its schedule is changed): with
# --restart-if-changed (airlock-control-plane-refresh.timer, every few minutes) a changed
# environment file restarts a running control plane, so new connections use the new one.
set -euo pipefail

AIRLOCK_PARAMS=/etc/airlock-bootstrap/params
# shellcheck source=bootstrap-lib.sh
source /usr/local/libexec/airlock/bootstrap-lib.sh

AWS_REGION=$(param AWS_REGION)
export AWS_REGION

# The KEK secret is created empty by Terraform, so that the key never enters its state.
# The first replica to boot generates it; the fixed version id makes that write a
# compare-and-set: Secrets Manager refuses a different value under an existing version id,
# so replicas booting together end up reading the same key.
ensure_kek() {
  local arn stderr_file kek_file
  arn=$(param KEK_SECRET_ARN)
  stderr_file=$(mktemp)
  if aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$arn" --query VersionId --output text >/dev/null 2>"$stderr_file"; then
    rm -f "$stderr_file"
    return 0
  fi
  if ! grep -q ResourceNotFoundException "$stderr_file"; then
    cat "$stderr_file" >&2
    rm -f "$stderr_file"
    return 1
  fi
  rm -f "$stderr_file"
  log "the KEK secret has no value yet: generating one"
  kek_file=$(mktemp /run/airlock-kek.XXXXXX)
  od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$kek_file"
  aws secretsmanager put-secret-value --region "$AWS_REGION" --secret-id "$arn" --client-request-token "$(param KEK_INITIAL_VERSION_ID)" \
    --secret-string "file://$kek_file" >/dev/null || log "the KEK was stored by another replica first"
  rm -f "$kek_file"
}
retry 12 ensure_kek || die "could not read or create the KEK in $(param KEK_SECRET_ARN)"

install -d -m 0700 -o root -g root /etc/credstore
while IFS=$'\t' read -r arn name || [[ -n "${arn:-}" ]]; do
  [[ -n "$arn" ]] || continue
  write_secret_file "$arn" "/etc/credstore/airlock-control-plane.$name" root:root 0600
done < <(param CREDENTIALS_TSV)

# DATABASE_URL: user and password percent-encoded (every character a URL or systemd's
# quoting could read as syntax), so the single-quoted value below is safe.
database_secret=$(secret_string "$(param DB_SECRET_ARN)") || die "could not read the database secret"
database_url=$(printf '%s' "$database_secret" | DB_HOST=$(param DB_HOST) DB_PORT=$(param DB_PORT) DB_NAME=$(param DB_NAME) /usr/bin/node -e '
  const { username, password } = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  const encode = (text) => encodeURIComponent(text).replace(/[!\x27()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  const { DB_HOST, DB_PORT, DB_NAME } = process.env;
  process.stdout.write(`postgresql://${encode(username)}:${encode(password)}@${DB_HOST}:${DB_PORT}/${encode(DB_NAME)}`);
') || die "the database secret is not the JSON RDS writes ({\"username\", \"password\"})"
unset database_secret

environment=$(mktemp /etc/airlock/.control-plane.env.XXXXXX)
chmod 0600 "$environment"
{
  printf "# Written by airlock-control-plane-secrets (modules/control-plane-aws) before every start.\n"
  printf "DATABASE_URL='%s'\n" "$database_url"
  param CONTROL_PLANE_ENVIRONMENT
} >"$environment"

if [[ "${1:-}" == --restart-if-changed ]] && cmp -s "$environment" /etc/airlock/control-plane.env; then
  rm -f "$environment"
  exit 0
fi
mv -f "$environment" /etc/airlock/control-plane.env
if [[ "${1:-}" == --restart-if-changed ]]; then
  log "the control plane's environment changed (a rotated database password): restarting it if it runs"
  systemctl try-restart airlock-control-plane.service
fi

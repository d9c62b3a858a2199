#!/bin/bash
# Fetches the worker's secrets from AWS Secrets Manager with the instance role: at first
# boot, and before every start of airlock-worker.service (airlock-worker-secrets.service),
# so a rotated secret needs only a restart. Files go to /etc/airlock/secrets (root:airlock
# 0640); variables to /etc/airlock/worker-secrets.env, which systemd reads as root.
set -euo pipefail

AIRLOCK_PARAMS=/etc/airlock-bootstrap/params
# shellcheck source=bootstrap-lib.sh
source /usr/local/libexec/airlock/bootstrap-lib.sh

AWS_REGION=$(param AWS_REGION)
export AWS_REGION

install -d -m 0750 -o root -g airlock /etc/airlock/secrets
while IFS=$'\t' read -r arn file_name || [[ -n "${arn:-}" ]]; do
  [[ -n "$arn" ]] || continue
  write_secret_file "$arn" "/etc/airlock/secrets/$file_name" root:airlock 0640
done < <(param SECRET_FILES_TSV)

environment=$(mktemp /etc/airlock/.worker-secrets.env.XXXXXX)
while IFS=$'\t' read -r name arn || [[ -n "${name:-}" ]]; do
  [[ -n "$name" ]] || continue
  value=$(secret_string "$arn") || die "could not read secret $arn"
  # One line, single-quoted for systemd: a value that could end the quoting is refused.
  [[ "$value" != *$'\n'* && "$value" != *"'"* && "$value" != *'\'* ]] || die "secret $arn ($name): expected one line without quotes or backslashes"
  printf "%s='%s'\n" "$name" "$value" >>"$environment"
done < <(param SECRET_ENVIRONMENT_TSV)
chmod 0600 "$environment"
mv -f "$environment" /etc/airlock/worker-secrets.env

#!/bin/bash
# Drains the worker before its Auto Scaling group terminates the instance (scale-in,
# instance refresh): the group's termination lifecycle hook holds the instance in
# Terminating:Wait; this sees it in the instance metadata, stops airlock-worker.service
# (its SIGTERM drains: running jobs finish, within the unit's TimeoutStopSec), then lets
# the group go on. If this never answers, the hook's heartbeat timeout does.
set -uo pipefail

AIRLOCK_PARAMS=/etc/airlock-bootstrap/params
# shellcheck source=bootstrap-lib.sh
source /usr/local/libexec/airlock/bootstrap-lib.sh

AWS_REGION=$(param AWS_REGION)
export AWS_REGION
group=$(param AUTOSCALING_GROUP_NAME)
hook=$(param LIFECYCLE_HOOK_NAME)
instance_id=$(retry 10 imds meta-data/instance-id) || die "no instance id from the metadata service"

while :; do
  if [[ "$(imds meta-data/autoscaling/target-lifecycle-state 2>/dev/null)" == Terminated ]]; then
    log "instance $instance_id is being terminated: draining airlock-worker.service"
    systemctl stop airlock-worker.service
    log "worker stopped; completing lifecycle action $hook"
    retry 5 aws autoscaling complete-lifecycle-action --region "$AWS_REGION" --auto-scaling-group-name "$group" \
      --lifecycle-hook-name "$hook" --instance-id "$instance_id" --lifecycle-action-result CONTINUE
    exit 0
  fi
  sleep 5
done

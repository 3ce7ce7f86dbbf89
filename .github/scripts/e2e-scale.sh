#!/usr/bin/env bash
# e2e-scale.sh NAMESPACE DEPLOYMENT REPLICAS — scales a Deployment and returns once the change has happened:
# for 0, when none of its pods is left (so its Service has no endpoints); otherwise when the rollout is done.
set -euo pipefail

NAMESPACE="${1:?usage: e2e-scale.sh NAMESPACE DEPLOYMENT REPLICAS}"
DEPLOYMENT="${2:?usage: e2e-scale.sh NAMESPACE DEPLOYMENT REPLICAS}"
REPLICAS="${3:?usage: e2e-scale.sh NAMESPACE DEPLOYMENT REPLICAS}"
TIMEOUT_SECONDS="${TIMEOUT_SECONDS:-180}"

kubectl -n "$NAMESPACE" scale "deployment/$DEPLOYMENT" --replicas="$REPLICAS"
if [ "$REPLICAS" -gt 0 ]; then
  kubectl -n "$NAMESPACE" rollout status "deployment/$DEPLOYMENT" --timeout="${TIMEOUT_SECONDS}s"
  exit 0
fi

SELECTOR="$(kubectl -n "$NAMESPACE" get "deployment/$DEPLOYMENT" -o json |
  jq -r '.spec.selector.matchLabels | to_entries | map("\(.key)=\(.value)") | join(",")')"
DEADLINE=$((SECONDS + TIMEOUT_SECONDS))
while [ -n "$(kubectl -n "$NAMESPACE" get pods -l "$SELECTOR" -o name)" ]; do
  if [ "$SECONDS" -ge "$DEADLINE" ]; then
    echo "pods of $DEPLOYMENT are still there after ${TIMEOUT_SECONDS}s" >&2
    exit 1
  fi
  sleep 2
done
echo "$DEPLOYMENT has no pods left"

#!/usr/bin/env bash
# gitops-wait.sh EXPECTED_COUNT — waits until Argo CD has EXPECTED_COUNT Applications and every one of them is
# Synced and Healthy; prints their states while it waits and, on timeout, which ones are not there yet and
# why (their conditions and last operation). Needs kubectl and jq.
set -euo pipefail

EXPECTED="${1:?usage: gitops-wait.sh EXPECTED_COUNT}"
TIMEOUT_SECONDS="${TIMEOUT_SECONDS:-900}"
INTERVAL_SECONDS="${INTERVAL_SECONDS:-10}"
NAMESPACE="${ARGOCD_NAMESPACE:-argocd}"

deadline=$((SECONDS + TIMEOUT_SECONDS))
while :; do
  apps="$(kubectl -n "$NAMESPACE" get applications.argoproj.io -o json)"
  count="$(jq '.items | length' <<<"$apps")"
  pending="$(jq -r '.items[] | select(.status.sync.status != "Synced" or .status.health.status != "Healthy")
    | "\(.metadata.name): \(.status.sync.status // "Unknown")/\(.status.health.status // "Unknown")"' <<<"$apps")"
  if [ "$count" -eq "$EXPECTED" ] && [ -z "$pending" ]; then
    echo "gitops-wait: all $count Applications are Synced and Healthy"
    exit 0
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "gitops-wait: FAILED after ${TIMEOUT_SECONDS}s: $count of $EXPECTED Applications, not Synced+Healthy:" >&2
    printf '%s\n' "$pending" >&2
    jq -r '.items[] | select(.status.sync.status != "Synced" or .status.health.status != "Healthy")
      | "--- \(.metadata.name)", (.status.conditions // [] | .[] | "  \(.type): \(.message)"),
        "  last operation: \(.status.operationState.phase // "none") \(.status.operationState.message // "")"' \
      <<<"$apps" >&2
    exit 1
  fi
  echo "gitops-wait: $count of $EXPECTED Applications; waiting for: $(tr '\n' ' ' <<<"$pending")"
  sleep "$INTERVAL_SECONDS"
done

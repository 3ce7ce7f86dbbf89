#!/usr/bin/env bash
# gitops-netpol-check.sh NAMESPACE [VERSIONS_FILE] — the NetworkPolicy is enforced: from a probe pod labelled
# as an allowed client (app.kubernetes.io/name=order-service), user-service answers; from a pod without that
# label, the connection is refused (times out). The allowed probe proves the refusal is the policy, not DNS or
# a wrong address. Needs kubectl.
set -euo pipefail

NAMESPACE="${1:?usage: gitops-netpol-check.sh NAMESPACE [VERSIONS_FILE]}"
VERSIONS_FILE="${2:-.github/e2e/gitops-versions.env}"
# shellcheck source=/dev/null  # .github/e2e/gitops-versions.env: KEY=VALUE lines only
source "$VERSIONS_FILE"
: "${PROBE_IMAGE:?}"
URL="http://user-service.${NAMESPACE}.svc.cluster.local:8000/health/live"

# probe NAME LABEL → the exit code of wget inside a throwaway pod (restricted Pod Security: non-root, no caps).
probe() {
  local name="$1" label="$2"
  kubectl -n "$NAMESPACE" run "$name" --image="$PROBE_IMAGE" --restart=Never --rm -i --quiet \
    --labels="app.kubernetes.io/name=${label}" \
    --overrides='{"apiVersion":"v1","spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":65534,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"'"$name"'","image":"'"$PROBE_IMAGE"'","command":["wget","-T","5","-q","-O","/dev/null","'"$URL"'"],"securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}' \
    >/dev/null 2>&1
}

if ! probe netpol-allowed order-service; then
  echo "gitops-netpol-check: FAILED: a pod labelled as order-service cannot reach user-service" >&2
  exit 1
fi
echo "gitops-netpol-check: an allowed client reaches user-service"
if probe netpol-stranger stranger; then
  echo "gitops-netpol-check: FAILED: a pod outside the allowed clients reached user-service (NetworkPolicy not enforced)" >&2
  exit 1
fi
echo "gitops-netpol-check: a pod outside the allowed clients is refused"

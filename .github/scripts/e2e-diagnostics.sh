#!/usr/bin/env bash
# e2e-diagnostics.sh NAMESPACE... — everything needed to see why an e2e run failed, printed to the job log:
# Helm releases, objects, pod descriptions, events in time order, and every container's logs (the previous
# instance's too when it restarted). Never fails: it runs after a failure and must print what it can.
set -uo pipefail

section() { printf '\n::group::%s\n' "$*"; }
end() { printf '::endgroup::\n'; }

section "helm releases"
helm list --all-namespaces --all
end
section "nodes"
kubectl get nodes -o wide
end
for NAMESPACE in "$@"; do
  section "$NAMESPACE: objects"
  kubectl -n "$NAMESPACE" get all,jobs,configmaps,secrets,pvc -o wide
  end
  section "$NAMESPACE: events"
  kubectl -n "$NAMESPACE" get events --sort-by=.lastTimestamp
  end
  section "$NAMESPACE: pod descriptions"
  kubectl -n "$NAMESPACE" describe pods
  end
  for POD in $(kubectl -n "$NAMESPACE" get pods -o name); do
    section "$NAMESPACE: logs of $POD"
    kubectl -n "$NAMESPACE" logs "$POD" --all-containers --prefix --timestamps
    if kubectl -n "$NAMESPACE" get "$POD" -o jsonpath='{.status.containerStatuses[*].restartCount}' | grep -q '[1-9]'; then
      echo "--- previous instance ---"
      kubectl -n "$NAMESPACE" logs "$POD" --all-containers --prefix --timestamps --previous
    fi
    end
  done
done
exit 0

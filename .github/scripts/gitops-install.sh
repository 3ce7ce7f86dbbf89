#!/usr/bin/env bash
# gitops-install.sh — what the GitOps path needs in a fresh kind cluster (no default CNI), at the versions in
# .github/e2e/gitops-versions.env: Calico (enforces NetworkPolicy), metrics-server (HPA), the Prometheus
# Operator CRDs (ServiceMonitor, PrometheusRule), the CloudNativePG operator, Argo CD. Waits for each.
#   bash .github/scripts/gitops-install.sh [VERSIONS_FILE]
set -euo pipefail

VERSIONS_FILE="${1:-.github/e2e/gitops-versions.env}"
# shellcheck source=/dev/null  # .github/e2e/gitops-versions.env: KEY=VALUE lines only
source "$VERSIONS_FILE"
: "${CALICO_VERSION:?}" "${METRICS_SERVER_VERSION:?}" "${PROMETHEUS_OPERATOR_VERSION:?}" "${CNPG_VERSION:?}" "${ARGOCD_VERSION:?}"
TIMEOUT="${TIMEOUT:-300s}"

say() { printf 'gitops-install: %s\n' "$*"; }

say "Calico $CALICO_VERSION"
kubectl apply -f "https://raw.githubusercontent.com/projectcalico/calico/${CALICO_VERSION}/manifests/calico.yaml"
kubectl -n kube-system rollout status daemonset/calico-node --timeout="$TIMEOUT"
kubectl -n kube-system rollout status deployment/calico-kube-controllers --timeout="$TIMEOUT"
kubectl wait --for=condition=Ready nodes --all --timeout="$TIMEOUT"

say "metrics-server $METRICS_SERVER_VERSION"
kubectl apply -f "https://github.com/kubernetes-sigs/metrics-server/releases/download/${METRICS_SERVER_VERSION}/components.yaml"
# kind's kubelets serve self-signed certificates.
kubectl -n kube-system patch deployment metrics-server --type=json \
  -p '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]'
kubectl -n kube-system rollout status deployment/metrics-server --timeout="$TIMEOUT"

say "Prometheus Operator CRDs $PROMETHEUS_OPERATOR_VERSION"
kubectl apply --server-side -f \
  "https://github.com/prometheus-operator/prometheus-operator/releases/download/${PROMETHEUS_OPERATOR_VERSION}/stripped-down-crds.yaml"
kubectl wait --for=condition=Established crd/servicemonitors.monitoring.coreos.com crd/prometheusrules.monitoring.coreos.com \
  --timeout="$TIMEOUT"

say "CloudNativePG $CNPG_VERSION"
kubectl apply --server-side -f \
  "https://github.com/cloudnative-pg/cloudnative-pg/releases/download/${CNPG_VERSION}/cnpg-${CNPG_VERSION#v}.yaml"
kubectl -n cnpg-system rollout status deployment/cnpg-controller-manager --timeout="$TIMEOUT"

say "Argo CD $ARGOCD_VERSION"
kubectl create namespace argocd --dry-run=client -o yaml | kubectl apply -f -
# Server-side: the CRDs are too large for the last-applied annotation of a client-side apply.
kubectl apply -n argocd --server-side --force-conflicts -f \
  "https://raw.githubusercontent.com/argoproj/argo-cd/${ARGOCD_VERSION}/manifests/install.yaml"
for deployment in argocd-repo-server argocd-server argocd-applicationset-controller argocd-redis; do
  kubectl -n argocd rollout status "deployment/$deployment" --timeout="$TIMEOUT"
done
kubectl -n argocd rollout status statefulset/argocd-application-controller --timeout="$TIMEOUT"
say "done"

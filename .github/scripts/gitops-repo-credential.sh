#!/usr/bin/env bash
# gitops-repo-credential.sh REPO_URL — prints the Argo CD repository Secret that lets Argo CD in the kind
# cluster fetch a private repository over HTTPS: label argocd.argoproj.io/secret-type=repository, username
# x-access-token, password the workflow token (REPO_TOKEN, from the environment; kubectl reads it from a
# file descriptor, so it never shows in the process list). e2e.yml pipes it into `kubectl apply -f -` when the repository is not public.
#   REPO_TOKEN=<token> bash .github/scripts/gitops-repo-credential.sh https://github.com/<owner>/<repo>.git
set -euo pipefail

REPO_URL="${1:?usage: REPO_TOKEN=<token> gitops-repo-credential.sh REPO_URL}"
: "${REPO_TOKEN:?REPO_TOKEN: the token Argo CD reads the repository with}"
NAMESPACE="${NAMESPACE:-argocd}"

# Client-side only (--dry-run=client): kubectl quotes the values, nothing is sent anywhere.
kubectl create secret generic repo-under-test --namespace "$NAMESPACE" --dry-run=client -o yaml \
  --from-literal=type=git \
  --from-literal=url="$REPO_URL" \
  --from-literal=username=x-access-token \
  --from-file=password=<(printf "%s" "$REPO_TOKEN") |
  sed 's/^metadata:$/metadata:\n  labels:\n    argocd.argoproj.io\/secret-type: repository/'

#!/usr/bin/env bash
# e2e-build-images.sh COMMIT — builds both images for the e2e clusters, tagged as .github/e2e/values-common.yaml
# names them (ghcr.io/e2e/<service>:e2e, pullPolicy Never), each with its PORT build arg read by
# service-port.mjs from the service's env schema, as ci.yml and release.yml build them.
set -euo pipefail

COMMIT="${1:?usage: e2e-build-images.sh COMMIT}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

for service in user-service order-service; do
  port="$(node "$ROOT/.github/scripts/service-port.mjs" "$service")"
  docker build -f "$ROOT/microservices/Dockerfile" -t "ghcr.io/e2e/$service:e2e" \
    --build-arg SERVICE="$service" --build-arg PORT="$port" \
    --build-arg VERSION=e2e --build-arg COMMIT="$COMMIT" "$ROOT"
done

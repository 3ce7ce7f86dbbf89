#!/usr/bin/env bash
# release-tag.sh — what release.yml › tag-images runs on a v* tag: for each digest prod runs, verify its
# signature, then give it the release tags as a carbon copy (`docker buildx imagetools create`: same digest,
# nothing rebuilt).
#
#   REFS=$'ghcr.io/o/user-service@sha256:…\n…' REF_NAME=v1.2.3 \
#   [CERTIFICATE_IDENTITY=https://github.com/o/r/.github/workflows/release.yml@refs/heads/main] \
#   [PUBLIC=true] [COSIGN_PUBLIC_KEY=<cosign.pub contents>] [REQUIRE_SIGNATURES=true] \
#   bash .github/scripts/release-tag.sh
#
# Tags: <version> always; <major>.<minor> only for a final release (v1.3.0-rc.1 is a prerelease: `1.3` must
# keep naming 1.3's last final release). Verification: keyless against this workflow's identity on a public
# repository, with COSIGN_PUBLIC_KEY on a private one; with neither, a warning, or a failure when
# REQUIRE_SIGNATURES=true (the repository variable of the same name).
#
# VERIFY_ONLY=true: verify each digest and tag nothing (verify-promoted-digests.sh, on pull requests).
set -euo pipefail

: "${REFS:?REFS: one <image>@sha256:<digest> per line}"
if [ "${VERIFY_ONLY:-}" = true ]; then
  REF_NAME="${REF_NAME:-v0.0.0}"
fi
: "${REF_NAME:?REF_NAME: the pushed tag, v<semver>}"
version="${REF_NAME#v}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$ ]]; then
  echo "::error::tag $REF_NAME is not v<major>.<minor>.<patch>[-prerelease]" >&2
  exit 1
fi
# Build metadata (+…) is not allowed in an image tag.
version="${version%%+*}"
minor="$(printf '%s' "$version" | cut -d. -f1-2)"
prerelease=false
[[ "$version" == *-* ]] && prerelease=true

verify() {
  local ref="$1"
  if [ "${PUBLIC:-}" = true ]; then
    : "${CERTIFICATE_IDENTITY:?CERTIFICATE_IDENTITY: identity of the signing workflow}"
    cosign verify --certificate-identity "$CERTIFICATE_IDENTITY" \
      --certificate-oidc-issuer https://token.actions.githubusercontent.com "$ref" >/dev/null
  elif [ -n "${COSIGN_PUBLIC_KEY:-}" ]; then
    cosign verify --key env://COSIGN_PUBLIC_KEY --insecure-ignore-tlog=true "$ref" >/dev/null
  elif [ "${REQUIRE_SIGNATURES:-}" = true ]; then
    echo "::error::REQUIRE_SIGNATURES is true but this private repository has no COSIGN_PUBLIC_KEY variable: $ref cannot be verified" >&2
    return 1
  else
    echo "::warning::private repository without the COSIGN_PUBLIC_KEY variable: $ref is released unverified" >&2
    return 0
  fi
  echo "verified $ref" >&2
}

while IFS= read -r ref; do
  [ -n "$ref" ] || continue
  image="${ref%@*}"
  verify "$ref"
  [ "${VERIFY_ONLY:-}" != true ] || continue
  tags=(--tag "${image}:${version}")
  [ "$prerelease" = true ] || tags+=(--tag "${image}:${minor}")
  docker buildx imagetools create "${tags[@]}" "$ref"
  echo "### ${image}:${version} = ${ref}" >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
done <<<"$REFS"
if [ "$prerelease" = true ] && [ "${VERIFY_ONLY:-}" != true ]; then
  echo "$REF_NAME is a prerelease: ${minor} not moved" >&2
fi

#!/usr/bin/env bash
# verify-promoted-digests.sh BASE — on a pull request, `cosign verify` every image digest that changed in
# k8s/staging/<service>/values.yaml or k8s/prod/<service>/values.yaml between BASE and HEAD, so a digest typed
# in by hand (never built, scanned and signed by release.yml) fails the pull request instead of reaching an
# environment. The image name comes from the environment's rendered manifests (what Argo CD would apply).
# A changed tag without a digest, or a digest removed, fails too. Verification is release-tag.sh's (VERIFY_ONLY=true): keyless identity when PUBLIC=true, COSIGN_PUBLIC_KEY
# otherwise, a warning with neither (a failure when REQUIRE_SIGNATURES=true).
#   PUBLIC=true CERTIFICATE_IDENTITY=… bash .github/scripts/verify-promoted-digests.sh <base sha>
set -euo pipefail

BASE="${1:?usage: verify-promoted-digests.sh BASE}"
digest_of() {
  sed -n 's/^  digest: *"\{0,1\}\(sha256:[0-9a-f]\{64\}\)"\{0,1\}.*$/\1/p' | head -n 1
}
tag_of() {
  sed -n 's/^  tag: *"\{0,1\}\([^" ]*\)"\{0,1\}.*$/\1/p' | head -n 1
}

refs=()
while IFS= read -r file; do
  [ -n "$file" ] || continue
  new="$(git show "HEAD:$file" 2>/dev/null | digest_of || true)"
  old="$(git show "$BASE:$file" 2>/dev/null | digest_of || true)"
  if [ -z "$new" ]; then
    # Without a digest the tag alone names the image: an environment that changes its tag, or drops its
    # digest, would run whatever that tag names, never verified.
    new_tag="$(git show "HEAD:$file" 2>/dev/null | tag_of || true)"
    old_tag="$(git show "$BASE:$file" 2>/dev/null | tag_of || true)"
    if [ -n "$old" ] || [ "$new_tag" != "$old_tag" ]; then
      echo "::error::$file names image tag \"$new_tag\" without a digest: staging and prod run only digests release.yml built, scanned and signed (promote them with promote.yml)" >&2
      exit 1
    fi
    continue
  fi
  if [ "$new" = "$old" ]; then
    continue
  fi
  manifests="$(dirname "$file")/manifests.yaml"
  image="$(git show "HEAD:$manifests" 2>/dev/null | sed -n "s/^ *image: *\"\{0,1\}\([^\"@ ]*\)@${new}.*$/\1/p" | head -n 1 || true)"
  if [ -z "$image" ]; then
    echo "::error::$manifests does not run $new ($file): re-render (npm run render-k8s -w @microservices/deploy-tests)" >&2
    exit 1
  fi
  # Drop the tag (the last path segment's :tag): the digest names the image.
  name="${image##*/}"
  refs+=("${image%/*}/${name%%:*}@${new}")
done < <(git diff --name-only "$BASE" HEAD -- 'k8s/staging/*/values.yaml' 'k8s/prod/*/values.yaml')

if [ "${#refs[@]}" -eq 0 ]; then
  echo "no staging or prod digest changed" >&2
  exit 0
fi
REFS="$(printf '%s\n' "${refs[@]}")" VERIFY_ONLY=true bash "$(dirname "$0")/release-tag.sh"

#!/usr/bin/env bash
# promote-dev.sh — what release.yml › promote-dev runs after the image jobs: pin k8s/dev to the digests this
# run pushed, commit, and push to main.
#
#   DIGESTS_DIR=<dir with one file per service holding its digest>  EXPECTED='["user-service",…]' \
#   SOURCE_COMMIT=<sha the images were built from>  OWNER=<ghcr owner>  [RUN_URL=…] [REMOTE=origin] \
#   [BRANCH=main] [ATTEMPTS=3]  bash .github/scripts/promote-dev.sh
#
# Two promises:
# - Every service the run set out to build (EXPECTED, the `changes` job's list) must have its digest. One
#   without (its build, scan, signature or attestation failed) keeps its old dev digest and the run FAILS,
#   after the others are promoted: "nothing was published" is never a green run.
# - When main moved while this ran, the promotion is not replayed with `git pull --rebase` (that would keep
#   manifests rendered from the old chart on top of a new one). It starts again from the new main: the
#   digests are written and dev re-rendered there, then pushed.
set -euo pipefail

: "${DIGESTS_DIR:?DIGESTS_DIR: the directory of downloaded digest files}"
: "${EXPECTED:?EXPECTED: JSON array of the services this run built}"
: "${SOURCE_COMMIT:?SOURCE_COMMIT: the commit the images were built from}"
: "${OWNER:?OWNER: the owner the images were pushed under}"
REMOTE="${REMOTE:-origin}"
BRANCH="${BRANCH:-main}"
ATTEMPTS="${ATTEMPTS:-3}"
MESSAGE_FILE="$(mktemp)"
trap 'rm -f "$MESSAGE_FILE"' EXIT

images=()
missing=()
while IFS= read -r service; do
  [ -n "$service" ] || continue
  if [ -s "$DIGESTS_DIR/$service" ]; then
    images+=(--image "$service=$(tr -d '[:space:]' <"$DIGESTS_DIR/$service")")
  else
    missing+=("$service")
  fi
done < <(node -e 'for (const s of JSON.parse(process.argv[1])) console.log(s)' "$EXPECTED")

# Writes the digests into k8s/dev, re-renders and commits. Returns 0 after a commit, 3 when dev already runs
# these digests, 2 on any failure (each command is checked: `set -e` does not apply inside `|| status=$?`).
promote() {
  node .github/scripts/promote-image.mjs set --env dev --tag "sha-${SOURCE_COMMIT::7}" \
    --source-commit "$SOURCE_COMMIT" --owner "$OWNER" --message-file "$MESSAGE_FILE" "${images[@]}" >&2 ||
    return 2
  git add -- k8s/dev || return 2
  if git diff --cached --quiet; then
    echo "dev already runs these digests: nothing to commit" >&2
    return 3
  fi
  local trailer=()
  [ -z "${RUN_URL:-}" ] || trailer=(--trailer "Release-Run: $RUN_URL")
  git commit --quiet --file "$MESSAGE_FILE" "${trailer[@]}" || return 2
}

if [ "${#images[@]}" -gt 0 ]; then
  status=0
  promote || status=$?
  attempt=0
  while [ "$status" -eq 0 ]; do
    if git push --quiet "$REMOTE" "HEAD:$BRANCH"; then
      echo "dev promotion pushed to $BRANCH" >&2
      break
    fi
    attempt=$((attempt + 1))
    if [ "$attempt" -ge "$ATTEMPTS" ]; then
      echo "::error::could not push the dev promotion after $ATTEMPTS attempts" >&2
      exit 1
    fi
    echo "push rejected (attempt $attempt): $BRANCH moved; promoting again on top of the new $BRANCH" >&2
    git fetch --quiet "$REMOTE" "$BRANCH"
    git reset --quiet --hard FETCH_HEAD
    promote || status=$?
  done
  if [ "$status" -eq 2 ]; then
    echo "::error::the dev promotion failed (see above)" >&2
    exit 1
  fi
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "::error::built but no digest recorded for: ${missing[*]} (their image job failed before the end): dev keeps their previous images" >&2
  exit 1
fi

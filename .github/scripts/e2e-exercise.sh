#!/usr/bin/env bash
# Drives a deployed user-service + order-service pair over HTTP, through an outage of user-service:
#   create a user → create an order → unknown user is 404 → stop user-service → creating an order is a fast
#   503 with Retry-After → start user-service → order creation recovers.
# e2e.yml runs it against a kind cluster through `kubectl port-forward`; the deploy tests run it against
# stand-in servers. Needs bash, curl and jq.
#
# Environment:
#   USER_URL, ORDER_URL        base URLs of the two services (no trailing slash)
#   STOP_USER_SERVICE          command that takes user-service away and returns once it is gone
#   START_USER_SERVICE         command that brings it back and returns once it is running again
#   MAX_503_SECONDS            how long the 503 may take at most (default 5: the 2.5 s deadline plus margin)
#   READY_TIMEOUT_SECONDS      wait for readiness at the start (default 120)
#   RECOVERY_TIMEOUT_SECONDS   wait for order creation to work again after the restart (default 120)
set -euo pipefail

: "${USER_URL:?USER_URL is required}" "${ORDER_URL:?ORDER_URL is required}"
: "${STOP_USER_SERVICE:?STOP_USER_SERVICE is required}" "${START_USER_SERVICE:?START_USER_SERVICE is required}"
MAX_503_SECONDS="${MAX_503_SECONDS:-5}"
READY_TIMEOUT_SECONDS="${READY_TIMEOUT_SECONDS:-120}"
RECOVERY_TIMEOUT_SECONDS="${RECOVERY_TIMEOUT_SECONDS:-120}"

RUN_ID="e2e-$(date +%s)-$$"
BODY="$(mktemp)"
HEADERS="$(mktemp)"
trap 'rm -f "$BODY" "$HEADERS"' EXIT

say() { printf 'e2e: %s\n' "$*"; }
die() {
  printf 'e2e: FAILED: %s\n' "$*" >&2
  if [ -s "$BODY" ]; then printf 'e2e: last response body: %s\n' "$(cat "$BODY")" >&2; fi
  exit 1
}

# request METHOD URL [JSON] → prints "<status> <seconds>"; the body lands in $BODY, the headers in $HEADERS.
request() {
  local method="$1" url="$2" data="${3:-}"
  local args=(--silent --show-error --max-time 15 --request "$method" --output "$BODY" --dump-header "$HEADERS"
    --write-out '%{http_code} %{time_total}' --header "x-request-id: $RUN_ID")
  if [ -n "$data" ]; then args+=(--header 'content-type: application/json' --data "$data"); fi
  curl "${args[@]}" "$url" || true
}

status_of() { printf '%s' "${1%% *}"; }
seconds_of() { printf '%s' "${1#* }"; }

wait_ready() {
  local base="$1" deadline=$((SECONDS + READY_TIMEOUT_SECONDS)) result
  until result="$(request GET "$base/health/ready")" && [ "$(status_of "$result")" = 200 ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "$base/health/ready is $(status_of "$result") after ${READY_TIMEOUT_SECONDS}s"
    sleep 2
  done
  say "$base is ready"
}

create_user() {
  local name="$1" result
  result="$(request POST "$USER_URL/api/v1/users" \
    "$(jq -cn --arg name "$name" --arg email "$name-$RUN_ID@example.com" '{name: $name, email: $email, age: 30}')")"
  [ "$(status_of "$result")" = 201 ] || die "create user $name: expected 201, got $(status_of "$result")"
  jq -er '.id' "$BODY"
}

order_json() {
  jq -cn --arg user "$1" \
    '{user_id: $user, items: [{product_id: "e2e-1", product_name: "E2E item", quantity: 2, price: 10.99}],
      shipping_address: "1 Test Road"}'
}

wait_ready "$USER_URL"
wait_ready "$ORDER_URL"

# Alice orders while user-service is up; Bob is never looked up by order-service before the outage, so
# its user cache cannot answer for him and the outage must surface as a 503.
ALICE="$(create_user alice)"
BOB="$(create_user bob)"
say "created users $ALICE and $BOB"

result="$(request POST "$ORDER_URL/api/v1/orders" "$(order_json "$ALICE")")"
[ "$(status_of "$result")" = 201 ] || die "create order: expected 201, got $(status_of "$result")"
[ "$(jq -r '.user_id' "$BODY")" = "$ALICE" ] || die "the order belongs to $(jq -r '.user_id' "$BODY"), not $ALICE"
[ "$(jq -r '.total_amount' "$BODY")" = 21.98 ] || die "order total: expected 21.98, got $(jq -r '.total_amount' "$BODY")"
say "created order $(jq -r '.id' "$BODY") for $ALICE"

result="$(request POST "$ORDER_URL/api/v1/orders" "$(order_json "no-such-user-$RUN_ID")")"
[ "$(status_of "$result")" = 404 ] || die "order for an unknown user: expected 404, got $(status_of "$result")"
say "an order for an unknown user is 404"

say "stopping user-service"
sh -c "$STOP_USER_SERVICE"
result="$(request POST "$ORDER_URL/api/v1/orders" "$(order_json "$BOB")")"
[ "$(status_of "$result")" = 503 ] || die "order while user-service is down: expected 503, got $(status_of "$result")"
grep -qi '^retry-after:' "$HEADERS" || die "the 503 has no Retry-After header"
awk -v took="$(seconds_of "$result")" -v max="$MAX_503_SECONDS" 'BEGIN { exit !(took <= max) }' ||
  die "the 503 took $(seconds_of "$result")s, more than ${MAX_503_SECONDS}s"
say "user-service down: order creation is 503 with Retry-After in $(seconds_of "$result")s"

say "starting user-service"
sh -c "$START_USER_SERVICE"
deadline=$((SECONDS + RECOVERY_TIMEOUT_SECONDS))
until result="$(request POST "$ORDER_URL/api/v1/orders" "$(order_json "$BOB")")" && [ "$(status_of "$result")" = 201 ]; do
  # 503 until the breaker half-opens and user-service answers again; anything else is a bug.
  [ "$(status_of "$result")" = 503 ] || die "order after the restart: expected 503 or 201, got $(status_of "$result")"
  [ "$SECONDS" -lt "$deadline" ] || die "order creation did not recover within ${RECOVERY_TIMEOUT_SECONDS}s"
  sleep 1
done
say "user-service back: created order $(jq -r '.id' "$BODY") for $BOB"
say "passed"

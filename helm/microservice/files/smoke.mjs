// Post-deploy smoke test, run by the service image's own Node.js (`node --input-type=module -e <this file>`)
// as a `helm test` pod and as an Argo CD PostSync Job. The image has no shell or curl, so this is plain fetch.
// It waits until the services are ready, creates a user (and an order when ORDER_SERVICE_URL is set) through
// the Services, reads them back, and deletes them again so repeated runs leave nothing behind. With
// SMOKE_READ_ONLY=true (prod) it only reads: readiness and one page of each list, no rows written.
const userServiceUrl = process.env.USER_SERVICE_URL ?? '';
const orderServiceUrl = process.env.ORDER_SERVICE_URL ?? '';
const readOnly = process.env.SMOKE_READ_ONLY === 'true';
const deadline = Date.now() + Number(process.env.SMOKE_TIMEOUT_MS ?? '120000');
const runId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

const say = (line) => process.stdout.write(`smoke: ${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function call(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', 'x-request-id': `smoke-${runId}` },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Retries `attempt` every 2 s until it returns a value or the overall deadline passes. */
async function eventually(what, attempt) {
  let last = 'no attempt';
  while (Date.now() < deadline) {
    try {
      const result = await attempt();
      if (result.ok) return result.value;
      last = result.why;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(2000);
  }
  throw new Error(`${what}: gave up (${last})`);
}

const expectStatus = (res, status, what) => {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status}`);
  return res.body;
};

async function main() {
  if (!userServiceUrl) throw new Error('USER_SERVICE_URL is not set');
  for (const base of [userServiceUrl, orderServiceUrl].filter(Boolean)) {
    await eventually(`${base}/health/ready`, async () => {
      const res = await call('GET', `${base}/health/ready`);
      return res.status === 200 ? { ok: true } : { ok: false, why: `readiness ${res.status}` };
    });
    say(`${base} is ready`);
  }
  if (readOnly) {
    expectStatus(await call('GET', `${userServiceUrl}/api/v1/users?limit=1`), 200, 'list users');
    if (orderServiceUrl)
      expectStatus(await call('GET', `${orderServiceUrl}/api/v1/orders?limit=1`), 200, 'list orders');
    say('passed (read-only)');
    return;
  }

  const user = expectStatus(
    await call('POST', `${userServiceUrl}/api/v1/users`, {
      name: 'Smoke Test',
      email: `smoke-${runId}@example.com`,
      age: 30,
    }),
    201,
    'create user',
  );
  say(`created user ${user.id}`);
  try {
    expectStatus(await call('GET', `${userServiceUrl}/api/v1/users/${user.id}`), 200, 'read user');
    if (orderServiceUrl) {
      // 503 means order-service could not reach user-service yet (breaker, warm-up): retry until the deadline.
      const order = await eventually('create order', async () => {
        const res = await call('POST', `${orderServiceUrl}/api/v1/orders`, {
          user_id: user.id,
          items: [{ product_id: 'smoke-1', product_name: 'Smoke test item', quantity: 2, price: 10.99 }],
          shipping_address: '1 Smoke Test Road',
        });
        if (res.status === 503) return { ok: false, why: 'order-service answered 503' };
        return { ok: true, value: expectStatus(res, 201, 'create order') };
      });
      if (order.total_amount !== 21.98)
        throw new Error(`order total: expected 21.98, got ${order.total_amount}`);
      say(`created order ${order.id}`);
      expectStatus(await call('GET', `${orderServiceUrl}/api/v1/orders/${order.id}`), 200, 'read order');
      expectStatus(await call('DELETE', `${orderServiceUrl}/api/v1/orders/${order.id}`), 204, 'delete order');
    }
  } finally {
    expectStatus(await call('DELETE', `${userServiceUrl}/api/v1/users/${user.id}`), 204, 'delete user');
  }
  say('passed');
}

main().catch((error) => {
  console.error(`smoke: FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

// Write load steps for the load driver that record every acknowledged write in a WriteLedger. Each worker
// owns the resources it writes, so the ledger's last acknowledged state is what the service promised.
import { setTimeout as sleep } from 'node:timers/promises';
import { exampleOrder, type User } from '../../support/fixtures.js';
import type { LoadRecord, WorkerSend } from './load-driver.js';
import { isSuccess } from './load-summary.js';
import type { WriteLedger } from './write-ledger.js';

/** A writer that got no 2xx pauses this long, as a client honouring "retry later" would (no hot spin). */
const PAUSE_AFTER_FAILURE_MS = 10;
/** The status moves a writer walks each order through. */
const NEXT_STATUS: Record<string, string | undefined> = {
  pending: 'confirmed',
  confirmed: 'shipped',
  shipped: 'delivered',
};

type Step = (worker: number, send: WorkerSend) => Promise<void>;
type Written = Record<string, unknown> & { id: string };

const bodyOf = (record: LoadRecord) => JSON.parse(record.text ?? '') as Written;

async function pauseUnlessOk(record: LoadRecord): Promise<void> {
  if (!isSuccess(record)) await sleep(PAUSE_AFTER_FAILURE_MS);
}

/** A create a writer repeats with the same Idempotency-Key until it is acknowledged, as a careful client does. */
interface PendingCreate {
  key: string;
  json: unknown;
}

/** One attempt at `create`; the created resource (now in the ledger) when it was acknowledged. */
async function tryCreate(
  send: WorkerSend,
  kind: string,
  path: string,
  create: PendingCreate,
  ledger: WriteLedger,
): Promise<Written | undefined> {
  const res = await send({
    method: 'POST',
    path,
    json: create.json,
    headers: { 'Idempotency-Key': create.key },
  });
  if (res.status !== 201) {
    await pauseUnlessOk(res);
    return undefined;
  }
  const created = bodyOf(res);
  ledger.acknowledged(kind, created, res.requestId);
  return created;
}

/** One attempt at a PUT of `change` to a resource in the ledger. */
async function tryUpdate(
  send: WorkerSend,
  kind: string,
  path: string,
  change: Record<string, unknown>,
  ledger: WriteLedger,
): Promise<void> {
  const res = await send({ method: 'PUT', path, json: change });
  const id = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
  if (res.status === 200) ledger.acknowledged(kind, bodyOf(res), res.requestId);
  else ledger.unacknowledged(kind, id, change);
  await pauseUnlessOk(res);
}

/** Users: each writer creates a user (idempotently), updates its name and age a few times, then creates the next. */
export function userWriters(ledger: WriteLedger): Step {
  const current = new Map<number, string>();
  const pending = new Map<number, PendingCreate>();
  let n = 0;
  return async (worker, send) => {
    n += 1;
    if (!pending.has(worker) && (!current.has(worker) || n % 5 === 0)) {
      const json = { name: `Writer ${worker}`, email: `outage-${worker}-${n}@example.com`, age: n % 150 };
      pending.set(worker, { key: `user-${worker}-${n}`, json });
    }
    const create = pending.get(worker);
    if (create) {
      const user = await tryCreate(send, 'user', '/api/v1/users', create, ledger);
      if (user) {
        pending.delete(worker);
        current.set(worker, user.id);
      }
      return;
    }
    const id = encodeURIComponent(current.get(worker) ?? '');
    await tryUpdate(
      send,
      'user',
      `/api/v1/users/${id}`,
      { name: `Writer ${worker} v${n}`, age: n % 150 },
      ledger,
    );
  };
}

/**
 * Orders: each writer places an order for a customer (idempotently) and moves it to delivered one status at
 * a time. A move that may have happened unacknowledged is simply repeated: moving to the current status is
 * a no-op 200.
 */
export function orderWriters(ledger: WriteLedger, customers: readonly User[]): Step {
  const current = new Map<number, string>();
  const pending = new Map<number, PendingCreate>();
  let n = 0;
  return async (worker, send) => {
    n += 1;
    const id = current.get(worker);
    const status = id === undefined ? undefined : ledger.state('order', id)?.status;
    const next = typeof status === 'string' ? NEXT_STATUS[status] : undefined;
    if (!pending.has(worker) && next === undefined) {
      const customer = customers[worker % customers.length] as User;
      pending.set(worker, { key: `order-${worker}-${n}`, json: exampleOrder(customer.id) });
    }
    const create = pending.get(worker);
    if (create) {
      const order = await tryCreate(send, 'order', '/api/v1/orders', create, ledger);
      if (order) {
        pending.delete(worker);
        current.set(worker, order.id);
      }
      return;
    }
    await tryUpdate(
      send,
      'order',
      `/api/v1/orders/${encodeURIComponent(id ?? '')}`,
      { status: next },
      ledger,
    );
  };
}

/** Anything but a read. */
export const isWrite = (r: LoadRecord) => r.method !== 'GET';

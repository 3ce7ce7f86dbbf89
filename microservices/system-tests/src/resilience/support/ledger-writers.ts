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

/** Each worker's resource of one kind: the create it is retrying, and the id of the last one it created. */
class WorkerResources {
  readonly current = new Map<number, string>();
  readonly pending = new Map<number, PendingCreate>();

  constructor(
    private readonly kind: string,
    private readonly path: string,
    private readonly ledger: WriteLedger,
  ) {}

  /** Retries the worker's pending create, if it has one (true: that was this step). */
  async retryPendingCreate(worker: number, send: WorkerSend): Promise<boolean> {
    const create = this.pending.get(worker);
    if (!create) return false;
    const created = await tryCreate(send, this.kind, this.path, create, this.ledger);
    if (created) {
      this.pending.delete(worker);
      this.current.set(worker, created.id);
    }
    return true;
  }
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
  const users = new WorkerResources('user', '/api/v1/users', ledger);
  let n = 0;
  return async (worker, send) => {
    n += 1;
    if (!users.pending.has(worker) && (!users.current.has(worker) || n % 5 === 0)) {
      const json = { name: `Writer ${worker}`, email: `outage-${worker}-${n}@example.com`, age: n % 150 };
      users.pending.set(worker, { key: `user-${worker}-${n}`, json });
    }
    if (await users.retryPendingCreate(worker, send)) return;
    const id = encodeURIComponent(users.current.get(worker) ?? '');
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
  const orders = new WorkerResources('order', '/api/v1/orders', ledger);
  let n = 0;
  return async (worker, send) => {
    n += 1;
    const id = orders.current.get(worker);
    const status = id === undefined ? undefined : ledger.state('order', id)?.status;
    const next = typeof status === 'string' ? NEXT_STATUS[status] : undefined;
    if (!orders.pending.has(worker) && next === undefined) {
      const customer = customers[worker % customers.length] as User;
      orders.pending.set(worker, { key: `order-${worker}-${n}`, json: exampleOrder(customer.id) });
    }
    if (await orders.retryPendingCreate(worker, send)) return;
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

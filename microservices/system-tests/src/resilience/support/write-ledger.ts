import { isDeepStrictEqual } from 'node:util';

type Resource = Record<string, unknown> & { id: string };

interface Entry {
  kind: string;
  /** The state the last acknowledged (2xx) write returned. */
  acknowledged: Resource;
  /** Where that acknowledgement came from (the request id), for messages. */
  acknowledgedBy: string;
  /** Changes sent after that acknowledgement which got no 2xx: each may or may not have been applied. */
  unacknowledged: Array<Record<string, unknown>>;
}

/** How a resource read back after the run compares with what the writers were told. */
export type Verdict =
  | { outcome: 'as_acknowledged' }
  /** Not the acknowledged state, but that state with a later write the writer saw fail: allowed. */
  | { outcome: 'unacknowledged_write_applied' }
  | { outcome: 'lost'; detail: string };

/** Fields a store sets itself on every change, so an applied-but-unacknowledged change may alter them too. */
const VOLATILE_FIELDS = new Set(['updated_at']);

/**
 * Every acknowledged write of a run, per resource: a create answered 2xx adds the resource with the body the
 * service returned; an update answered 2xx replaces it; an update without a 2xx is remembered as "may have
 * happened" until the next acknowledgement. Each resource must have a single writer at a time, so the last
 * acknowledged state is the state the service promised.
 */
export class WriteLedger {
  readonly #entries = new Map<string, Entry>();

  #key = (kind: string, id: string) => `${kind}:${id}`;

  /** A 2xx answer to a create or an update: `body` is the resource as the service returned it. */
  acknowledged(kind: string, body: Resource, requestId: string): void {
    this.#entries.set(this.#key(kind, body.id), {
      kind,
      acknowledged: body,
      acknowledgedBy: requestId,
      unacknowledged: [],
    });
  }

  /** An update of a known resource answered with anything but a 2xx (or not answered). */
  unacknowledged(kind: string, id: string, change: Record<string, unknown>): void {
    this.#entries.get(this.#key(kind, id))?.unacknowledged.push(change);
  }

  /** The last acknowledged state of one resource. */
  state(kind: string, id: string): Resource | undefined {
    return this.#entries.get(this.#key(kind, id))?.acknowledged;
  }

  /** Every resource of `kind` with an acknowledged write. */
  ids(kind: string): string[] {
    return [...this.#entries.values()].filter((e) => e.kind === kind).map((e) => e.acknowledged.id);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Compares what was read back (`actual`, or null when the service says it does not exist) with the ledger. */
  verify(kind: string, id: string, actual: Resource | null): Verdict {
    const entry = this.#entries.get(this.#key(kind, id));
    if (!entry) return { outcome: 'lost', detail: `${kind} ${id} is not in the ledger` };
    const where = `${kind} ${id} (acknowledged by ${entry.acknowledgedBy})`;
    if (actual === null) return { outcome: 'lost', detail: `${where} no longer exists` };
    if (isDeepStrictEqual(actual, entry.acknowledged)) return { outcome: 'as_acknowledged' };
    const sameExceptVolatile = (expected: Resource) =>
      Object.keys({ ...expected, ...actual }).every(
        (field) => VOLATILE_FIELDS.has(field) || isDeepStrictEqual(actual[field], expected[field]),
      );
    if (entry.unacknowledged.some((change) => sameExceptVolatile({ ...entry.acknowledged, ...change }))) {
      return { outcome: 'unacknowledged_write_applied' };
    }
    return {
      outcome: 'lost',
      detail: `${where}: expected ${JSON.stringify(entry.acknowledged)}, got ${JSON.stringify(actual)}`,
    };
  }
}

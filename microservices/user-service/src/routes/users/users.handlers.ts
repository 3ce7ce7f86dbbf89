import {
  accessOf,
  conflict,
  ensureReaches,
  type AppRouteHandler as Handler,
  IDEMPOTENT_REPLAY_HEADERS,
  idempotencyKeyReused,
  idempotencyRequest,
  jsonBytes,
  notFound,
  type ResourceHandlerDeps,
  reply,
  replyJson,
} from '@microservices/service-kit';
import { newUser } from '../../domain/new-user.js';
import { patchUser } from '../../domain/user-patch.js';
import type { UserMetrics } from '../../metrics.js';
import { EmailTakenError, type UserStore } from '../../store/user-store.js';
import type * as routes from './users.routes.js';

export type UserHandlerDeps = ResourceHandlerDeps<UserStore, UserMetrics>;

const USER_NOT_FOUND = 'User not found';

/** Translates the store's email clash into the documented 409. */
async function withEmailConflict<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof EmailTakenError) throw conflict('Email already registered', 'email-taken');
    throw err;
  }
}

export function createUserHandlers({ store, clock, metrics, generateId, pager }: UserHandlerDeps) {
  const create: Handler<typeof routes.createUser> = async (c) => {
    const input = c.req.valid('json');
    const now = clock.now();
    const user = newUser(input, { id: generateId(), now });
    const idempotency = idempotencyRequest(c.req.valid('header')['idempotency-key'], input);
    const result = await withEmailConflict(() => store.create(user, idempotency));
    if (result.outcome === 'key_reused') throw idempotencyKeyReused();
    if (result.outcome === 'created') metrics.usersCreated.inc();
    return replyJson(
      c,
      result.value,
      201,
      result.outcome === 'created' ? undefined : IDEMPOTENT_REPLAY_HEADERS,
    );
  };

  const list: Handler<typeof routes.listUsers> = async (c) => {
    const access = accessOf(c);
    if (access.all) return pager.reply(c, c.req.valid('query'), (request) => store.list(request));
    // A token held to its own user lists that user alone: one page of at most one row.
    return pager.reply(c, c.req.valid('query'), async ({ skip, after }) => {
      const own = skip === 0 && after === undefined ? await store.get(access.userId) : null;
      return own ? [{ position: 1, value: own, minJsonBytes: jsonBytes(own) }] : [];
    });
  };

  const get: Handler<typeof routes.getUser> = async (c) => {
    const { user_id } = c.req.valid('param');
    ensureReaches(c, user_id, 'read');
    const user = await store.get(user_id);
    if (!user) throw notFound(USER_NOT_FOUND);
    return replyJson(c, user, 200);
  };

  const update: Handler<typeof routes.updateUser> = async (c) => {
    const { user_id } = c.req.valid('param');
    ensureReaches(c, user_id, 'change');
    const patch = c.req.valid('json');
    const updated = await withEmailConflict(() => store.update(user_id, (user) => patchUser(user, patch)));
    if (!updated) throw notFound(USER_NOT_FOUND);
    return replyJson(c, updated, 200);
  };

  const remove: Handler<typeof routes.deleteUser> = async (c) => {
    const { user_id } = c.req.valid('param');
    ensureReaches(c, user_id, 'delete');
    const deleted = await store.delete(user_id);
    if (!deleted) throw notFound(USER_NOT_FOUND);
    metrics.usersDeleted.inc();
    return reply(c, null, 204);
  };

  return { create, list, get, update, remove };
}

import { captureLogger, sampleValue, scrape } from '@microservices/service-kit/testing';
import { describe, expect, it } from 'vitest';
import type { User } from './domain/user.js';
import { buildTestApp } from './test-app.js';

// Request ids, the access log and the labelling of the HTTP metrics are the kit's: tested over the kit's
// fixture service in service-kit/src/app/observability.test.ts. What is user-service's own stays here.
const USERS = '/api/v1/users';
const newUser = (n: number) => ({ name: `User ${n}`, email: `user${n}@example.com` });

type Client = ReturnType<typeof buildTestApp>['client'];

/** The value of a user-service counter after `act` ran against a fresh app. */
async function counterAfter(name: string, act: (client: Client) => Promise<void>) {
  const { client } = buildTestApp();
  await act(client);
  return sampleValue((await scrape(client)).samples, name);
}

describe('user-service metrics', () => {
  it.each([
    [
      'users are created',
      'users_created_total',
      2,
      async (client: Client) => {
        await client.post(USERS, newUser(1));
        await client.post(USERS, newUser(2));
      },
    ],
    [
      'a create is rejected (409 or 400)',
      'users_created_total',
      1,
      async (client: Client) => {
        await client.post(USERS, newUser(1));
        await client.post(USERS, newUser(1));
        await client.post(USERS, { name: '' });
      },
    ],
    [
      'a user is deleted',
      'users_deleted_total',
      1,
      async (client: Client) => {
        const created = await client.post<User>(USERS, newUser(1));
        await client.delete(`${USERS}/${created.body.id}`);
      },
    ],
    [
      'a delete finds no user',
      'users_deleted_total',
      0,
      async (client: Client) => {
        await client.delete(`${USERS}/nonexistent-id`);
      },
    ],
  ])('when %s, then %s is %i', async (_when, name, expected, act) => {
    expect(await counterAfter(name, act)).toBe(expected);
  });

  it('when two apps run in one process, then their counters are independent', async () => {
    const first = buildTestApp();
    const second = buildTestApp();
    await first.client.post(USERS, newUser(1));
    const { samples } = await scrape(second.client);
    expect(sampleValue(samples, 'users_created_total')).toBe(0);
  });
});

describe('user-service logs', () => {
  it('when users are created, updated and rejected, then their email appears in no log line', async () => {
    const captured = captureLogger();
    const { client } = buildTestApp({ logger: captured.logger });
    await client.contract();
    const before = captured.lines().length;
    const lines = () => captured.lines().slice(before);
    const email = 'very.private@example.com';
    const created = await client.post<User>(USERS, { name: 'Private', email });
    await client.post(USERS, { name: 'Dup', email: email.toUpperCase() });
    await client.put(`${USERS}/${created.body.id}`, { email: 'also.private@example.com' });
    await client.post(USERS, { name: '', email: 'third.private@example.com' });
    const logged = JSON.stringify(lines()).toLowerCase();
    expect(lines().length).toBeGreaterThanOrEqual(4);
    expect(logged).not.toContain('private@example.com');
  });
});

import { describe, expect, it } from 'vitest';
import { type HealthCheck, runChecks } from './checks.js';

const healthy = (name: string, critical = true): HealthCheck => ({ name, critical, run: async () => {} });
const never = () => new Promise<void>(() => {});

describe('runChecks', () => {
  it('when there are no checks, then the result is empty', async () => {
    expect(await runChecks([], 100)).toEqual({});
  });

  it('when a check resolves, then it is healthy with a latency and its critical flag', async () => {
    const results = await runChecks([healthy('store', true), healthy('upstream', false)], 1_000);
    expect(results.store).toEqual({ status: 'healthy', latency_ms: expect.any(Number), critical: true });
    expect(results.upstream).toMatchObject({ status: 'healthy', critical: false });
    expect(results.store?.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('when a check rejects with an Error, then the detail is generic and the error goes to onFailure', async () => {
    const error = new Error('connect to postgres://app:hunter2@db.internal failed');
    const failing: HealthCheck = {
      name: 'store',
      critical: true,
      run: async () => {
        throw error;
      },
    };
    const failures: unknown[] = [];
    const results = await runChecks([failing], 1_000, (f) => failures.push(f));
    expect(results.store).toMatchObject({ status: 'unhealthy', detail: 'failed', critical: true });
    expect(JSON.stringify(results)).not.toContain('hunter2');
    expect(failures).toEqual([{ check: 'store', error }]);
  });

  it('when a check rejects with a system error, then the detail is its code', async () => {
    const failing: HealthCheck = {
      name: 'upstream',
      critical: false,
      run: () =>
        Promise.reject(
          Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:8000'), { code: 'ECONNREFUSED' }),
        ),
    };
    const results = await runChecks([failing], 1_000);
    expect(results.upstream).toMatchObject({ status: 'unhealthy', detail: 'ECONNREFUSED' });
  });

  it('when a check rejects with something that is not an Error, then the detail is generic', async () => {
    const failing: HealthCheck = { name: 'x', critical: false, run: () => Promise.reject('nope') };
    const results = await runChecks([failing], 1_000);
    expect(results.x).toMatchObject({ status: 'unhealthy', detail: 'failed' });
  });

  it('when a check never settles, then it is reported unhealthy as "timed out" after the timeout', async () => {
    const hanging: HealthCheck = { name: 'slow', critical: true, run: never };
    const results = await runChecks([hanging], 20);
    expect(results.slow).toMatchObject({ status: 'unhealthy', detail: 'timed out' });
    expect(results.slow?.latency_ms).toBeGreaterThanOrEqual(15);
  });

  it('when a check times out, then the signal it was given is aborted so it can stop its work', async () => {
    let received: AbortSignal | undefined;
    const hanging: HealthCheck = {
      name: 'slow',
      critical: true,
      run: (signal) => {
        received = signal;
        return never();
      },
    };
    await runChecks([hanging], 20);
    expect(received?.aborted).toBe(true);
  });

  it('when one check hangs, then the others are still reported healthy', async () => {
    const results = await runChecks([{ name: 'slow', critical: false, run: never }, healthy('store')], 20);
    expect(results.store?.status).toBe('healthy');
    expect(results.slow?.status).toBe('unhealthy');
  });

  it('when there are several checks, then they run concurrently, not one after another', async () => {
    // `first` can only finish once `second` has started; run sequentially, it would time out instead.
    let secondStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      secondStarted = resolve;
    });
    const first: HealthCheck = { name: 'first', critical: true, run: () => started };
    const second: HealthCheck = {
      name: 'second',
      critical: true,
      run: async () => secondStarted(),
    };
    const results = await runChecks([first, second], 1_000);
    expect(results.first?.status).toBe('healthy');
  });
});

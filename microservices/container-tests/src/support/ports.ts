import { freePort } from '@microservices/service-kit/testing';

/** Every address the tests use: containers run on the host network and nothing leaves this machine. */
export const LOOPBACK = '127.0.0.1';

export { freePort };

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

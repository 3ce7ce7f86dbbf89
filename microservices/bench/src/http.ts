import { request } from 'undici';

/** One JSON request for setting up data (not measured); throws unless the status is `expect`. */
export async function jsonRequest<T>(
  method: 'GET' | 'POST',
  url: string,
  body: unknown,
  expect: number,
  options: { headers?: Record<string, string> } = {},
): Promise<{ json: T; text: string }> {
  const res = await request(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  if (res.statusCode !== expect) {
    throw new Error(
      `${method} ${url} answered ${res.statusCode} (expected ${expect}): ${text.slice(0, 300)}`,
    );
  }
  return { json: JSON.parse(text) as T, text };
}

/** An order body for `userId` (one item, like the README example). */
export const orderBody = (userId: string) =>
  JSON.stringify({
    user_id: userId,
    items: [{ product_id: 'prod-1', product_name: 'Laptop', quantity: 1, price: 999.99 }],
    shipping_address: '123 Main St, City, Country',
  });

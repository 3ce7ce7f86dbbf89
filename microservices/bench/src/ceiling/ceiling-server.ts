// The ceiling: the fastest a Node.js process with Hono on @hono/node-server answers this request shape on
// this machine — one route, no middleware, a static JSON body the size of a GET user answer. Each service
// scenario is reported as a ratio of this server's rate measured in the same run, which cancels out how
// fast (or busy) the machine is. Bundled and run like the services: plain `node`, NODE_ENV=production.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const port = Number(process.env.PORT);
const body: unknown = JSON.parse(process.env.CEILING_BODY ?? '{}');

const app = new Hono();
app.get('/api/v1/users/:user_id', (c) => c.json(body as Record<string, unknown>));

serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
// Nothing to drain: a benchmark stops it between runs.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { answerRuleViolations, readSources } from './testing/source-checks.js';

const microservices = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
/** Every service built on the kit, and the kit's own routes (docs.ts serves files and a page: exempt). */
const CHECKED = ['user-service/src', 'order-service/src', 'service-kit/src/routes', 'service-kit/src/app'];
const EXEMPT = new Set(['service-kit/src/routes/docs.ts']);

describe('answers are built with the kit’s reply helpers', () => {
  it('no handler answers with c.json, c.body, c.text, c.html or c.newResponse', () => {
    const files = new Map<string, string>();
    for (const dir of CHECKED) {
      for (const [path, source] of readSources(join(microservices, dir))) {
        if (!EXEMPT.has(path.slice(microservices.length + 1))) files.set(path, source);
      }
    }
    expect(files.size).toBeGreaterThan(20);
    expect(answerRuleViolations(microservices, files)).toEqual([]);
  });

  it('when a handler answers with c.json, the check names the file and line', () => {
    const planted = new Map([
      [
        join(microservices, 'user-service/src/routes/planted.ts'),
        [
          'export const handler = async (c) => {',
          '  const body = await c.req.json();',
          '  const upstream = await res.json();',
          '  return c.json(body, 200);',
          '};',
          'const other = (ctx) => ctx.text("hi");',
          'const third = (c) => c.body(null, 204);',
        ].join('\n'),
      ],
      [join(microservices, 'user-service/src/routes/planted.test.ts'), 'app.get("/", (c) => c.json({}));'],
    ]);
    expect(answerRuleViolations(microservices, planted)).toEqual([
      { file: 'user-service/src/routes/planted.ts', line: 4, text: 'return c.json(body, 200);' },
      { file: 'user-service/src/routes/planted.ts', line: 6, text: 'const other = (ctx) => ctx.text("hi");' },
      {
        file: 'user-service/src/routes/planted.ts',
        line: 7,
        text: 'const third = (c) => c.body(null, 204);',
      },
    ]);
  });
});

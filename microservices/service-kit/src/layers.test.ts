import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importsOf, LAYERS, layerViolations, readSources } from './testing/source-checks.js';

const root = fileURLToPath(new URL('.', import.meta.url)).replace(/\/$/, '');

describe('the kit’s layers depend one way', () => {
  it(`no file imports a layer after its own (${LAYERS.join(' → ')})`, () => {
    expect(layerViolations(root, readSources(root))).toEqual([]);
  });

  it('every layer folder exists, so a renamed folder cannot drop out of the check', () => {
    const folders = new Set([...readSources(root).keys()].map((f) => f.slice(root.length + 1).split('/')[0]));
    for (const layer of LAYERS) expect(folders, layer).toContain(layer);
  });

  it('when a lower layer imports a higher one, the check names the file and the import', () => {
    const planted = new Map([
      [
        join(root, 'edge', 'planted.ts'),
        "import { createServiceApp } from '../app/create-service-app.js';\n",
      ],
      [
        join(root, 'problems', 'planted.ts'),
        "export { startHttpServer } from '../boot/server/http-server.js';\n",
      ],
      [join(root, 'base', 'planted.ts'), "const later = await import('../routes/docs.js');\n"],
      [join(root, 'routes', 'planted.ts'), "import { reply } from '../edge/reply.js';\n"],
      [join(root, 'routes', 'sneaky.ts'), "import { x } from '@microservices/service-kit';\n"],
      [
        join(root, 'edge', 'planted.test.ts'),
        "import { createServiceApp } from '../app/create-service-app.js';\n",
      ],
    ]);
    expect(layerViolations(root, planted)).toEqual([
      expect.objectContaining({ file: 'edge/planted.ts', imports: '../app/create-service-app.js' }),
      expect.objectContaining({ file: 'problems/planted.ts', imports: '../boot/server/http-server.js' }),
      expect.objectContaining({ file: 'base/planted.ts', imports: '../routes/docs.js' }),
      expect.objectContaining({ file: 'routes/sneaky.ts', imports: '@microservices/service-kit' }),
    ]);
  });

  it('finds static, re-exported, type-only, side-effect and dynamic imports', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      "import './e.js';",
      "const f = await import('./f.js');",
      'import {',
      '  g,',
      "} from './g.js';",
    ].join('\n');
    expect(importsOf(source)).toEqual([
      './a.js',
      '../b.js',
      './c.js',
      './d.js',
      './e.js',
      './f.js',
      './g.js',
    ]);
  });
});

import { join } from 'node:path';
import { build } from 'esbuild';
import { benchDir } from '../paths.js';

/** Bundles the ceiling server into `outDir/ceiling.mjs` the way the services are bundled (one ESM file). */
export async function buildCeiling(outDir: string): Promise<string> {
  const outfile = join(outDir, 'ceiling.mjs');
  await build({
    entryPoints: [join(benchDir, 'src', 'ceiling', 'ceiling-server.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.18',
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
  });
  return outfile;
}

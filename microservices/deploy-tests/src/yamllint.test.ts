import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartDir, k8sDir, repoRoot, scratchDir } from './support/deploy-paths.js';
import { optionalTool, yamllintStrict } from './support/tools.js';

const yamllint = optionalTool('yamllint', 'yamllint');
const config = join(k8sDir, '.yamllint.yaml');

describe.skipIf(!yamllint.available)(
  `yamllint --strict${yamllint.reason ? `: skipped, ${yamllint.reason}` : ''}`,
  () => {
    it('passes on k8s/ (sources and rendered manifests) and the chart values', async () => {
      const result = await yamllintStrict(config, [relative(repoRoot, k8sDir), relative(repoRoot, chartDir)]);
      expect(result.stdout + result.stderr).toBe('');
      expect(result.code).toBe(0);
    });

    it('fails on a duplicated key and bad indentation (negative)', async () => {
      const dir = join(scratchDir, 'yamllint');
      await mkdir(dir, { recursive: true });
      const file = join(dir, 'values.yaml');
      await writeFile(file, 'image:\n   tag: "1.0.0"\nimage:\n  digest: ""\n');
      const result = await yamllintStrict(config, [file]);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toMatch(/duplication of key "image"/);
      expect(result.stdout).toMatch(/indentation/);
    });
  },
);

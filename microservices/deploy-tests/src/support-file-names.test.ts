import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/deploy-paths.js';
import { checkUniqueNames, supportFiles } from './support/support-file-names.js';

describe('test support file names', () => {
  it('when every support/ and testing/ folder of every workspace is listed, then no two files share a name', () => {
    const files = supportFiles(repoRoot);
    // The walk reaches every workspace that has helpers, so a clean result means something.
    const workspaces = new Set(files.map((f) => f.split('/')[1]));
    expect([...workspaces].sort()).toEqual(
      expect.arrayContaining(['container-tests', 'deploy-tests', 'service-kit', 'system-tests']),
    );
    expect(files).toContain('microservices/deploy-tests/src/support/support-file-names.ts');
    expect(checkUniqueNames(files)).toEqual([]);
  });

  describe('on a planted tree', () => {
    let root = '';
    afterAll(() => rm(root, { recursive: true, force: true }));

    it('when two workspaces (or two folders of one) hold a helper of the same name, then the check names every holder, and files outside helper folders do not count', async () => {
      root = await mkdtemp(join(tmpdir(), 'support-names-'));
      const plant = async (path: string) => {
        await mkdir(dirname(join(root, path)), { recursive: true });
        await writeFile(join(root, path), '');
      };
      await Promise.all(
        [
          'microservices/a/src/support/paths.ts',
          'microservices/b/src/deep/testing/paths.ts',
          'microservices/b/src/support/report.ts',
          'microservices/b/src/group/support/report.ts',
          'microservices/b/src/support/unique.ts',
          // Not helpers: beside the code, outside src, or build output.
          'microservices/c/src/paths.ts',
          'microservices/c/support/paths.ts',
          'microservices/c/src/support/dist/paths.ts',
        ].map(plant),
      );
      expect(checkUniqueNames(supportFiles(root))).toEqual([
        'paths.ts names 2 support files: microservices/a/src/support/paths.ts, microservices/b/src/deep/testing/paths.ts (rename all but one)',
        'report.ts names 2 support files: microservices/b/src/group/support/report.ts, microservices/b/src/support/report.ts (rename all but one)',
      ]);
    });
  });
});

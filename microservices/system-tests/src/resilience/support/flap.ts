import { setTimeout as sleep } from 'node:timers/promises';

/** One state a dependency is put in for a while. */
export interface FlapPhase {
  name: string;
  holdMs: number;
  /** Puts the dependency in this state; resolves once it is in it. */
  enter: () => Promise<void>;
}

/** When each phase was entered (and left), on `performance.now()`. */
export interface FlapWindow {
  name: string;
  from: number;
  to: number;
}

export interface Flapping {
  windows: () => readonly FlapWindow[];
  /** Stops after the current phase and runs `restore`; resolves with every window. */
  stop: () => Promise<readonly FlapWindow[]>;
}

/**
 * Cycles through `phases` (each entered, then held for its `holdMs`) until stopped or `maxCycles` full
 * cycles have run, then calls `restore` so the dependency is left healthy whatever phase it stopped in.
 */
export function flap(
  phases: readonly FlapPhase[],
  { maxCycles, restore }: { maxCycles: number; restore: () => Promise<void> },
): Flapping {
  const windows: FlapWindow[] = [];
  let stopped = false;
  const run = (async () => {
    for (let cycle = 0; cycle < maxCycles && !stopped; cycle += 1) {
      for (const phase of phases) {
        if (stopped) break;
        await phase.enter();
        const from = performance.now();
        await sleep(phase.holdMs);
        windows.push({ name: phase.name, from, to: performance.now() });
      }
    }
    await restore();
  })();
  // A failed phase surfaces from stop(); until then it must not count as an unhandled rejection.
  run.catch(() => undefined);
  return {
    windows: () => windows,
    stop: async () => {
      stopped = true;
      await run;
      return windows;
    },
  };
}

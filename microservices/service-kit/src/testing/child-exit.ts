import type { ChildProcess } from 'node:child_process';

/** How a child process ended; both null when it could not be spawned at all. */
export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Tracks a child's end. Settles on 'close' rather than 'exit': 'close' fires once stdout and stderr have
 * ended, so whatever output was being collected is complete by then. A spawn failure settles it too.
 */
export function watchExit(child: ChildProcess): { exited: Promise<ExitResult>; hasExited: () => boolean } {
  let done = false;
  const exited = new Promise<ExitResult>((resolve) => {
    child.once('error', () => {
      done = true;
      resolve({ code: null, signal: null });
    });
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  return { exited, hasExited: () => done };
}

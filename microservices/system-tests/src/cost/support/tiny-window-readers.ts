import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./tiny-window-readers.py', import.meta.url));

/**
 * `conns` clients with a 2 KB receive window, each sending `pipeline` GETs of `path` (then `tail.count`
 * GETs of `tail.path`, if given) and never reading for `holdS` seconds (tiny-window-readers.py: Node cannot set a TCP socket's receive buffer). Resolves with
 * the script's JSON line: `{"opened": n, "statuses": {"200": n, "503": n, "none": n}}`.
 */
export function runTinyWindowReaders(
  port: number,
  conns: number,
  holdS: number,
  path: string,
  pipeline = 1,
  tail?: { path: string; count: number },
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'python3',
      [
        SCRIPT,
        String(port),
        String(conns),
        String(holdS),
        path,
        String(pipeline),
        ...(tail ? [tail.path, String(tail.count)] : []),
      ],
      { timeout: (holdS + 60) * 1000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()),
    );
  });
}

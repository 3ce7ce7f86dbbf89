/**
 * The status the server gave a connection it cut while the app was still reading a request from it (a
 * body too slow, a request timeout). The app then sees the body read fail exactly as if the client had
 * gone away; this is how it tells the two apart, so the access log and metrics say `408` for what the
 * server cut and `499` only for what the client abandoned.
 */
const verdicts = new WeakMap<object, number>();

export function recordConnectionCut(socket: object, status: number): void {
  verdicts.set(socket, status);
}

/** The status the server cut this connection with, if it did. */
export function connectionCutStatus(socket: object | null | undefined): number | undefined {
  return socket ? verdicts.get(socket) : undefined;
}

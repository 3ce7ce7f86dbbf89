/**
 * Whether the process is still taking new work. Readiness reads it on every probe so that
 * the moment shutdown begins the pod leaves its Service endpoints.
 */
export class Lifecycle {
  #draining = false;

  get draining(): boolean {
    return this.#draining;
  }

  beginDrain(): void {
    this.#draining = true;
  }
}

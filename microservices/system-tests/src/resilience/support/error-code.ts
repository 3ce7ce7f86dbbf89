/** The error code of a failed request (ECONNREFUSED, ECONNRESET, UND_ERR_…), looking through `cause`s. */
export const errorCode = (err: unknown): string => {
  if (err && typeof err === 'object') {
    const { code, cause } = err as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    if (cause) return errorCode(cause);
  }
  return err instanceof Error ? err.message : String(err);
};

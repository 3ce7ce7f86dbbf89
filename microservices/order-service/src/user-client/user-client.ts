/** What order-service needs to know about a user. */
export interface UserRef {
  id: string;
}

export type UnavailableReason =
  | 'circuit_open'
  | 'timeout'
  | 'connection_error'
  | 'server_error'
  | 'bad_response'
  /** order-service could not get a token of its own to call user-service with. */
  | 'identity_unavailable'
  /** user-service refused order-service's token (401/403): a configuration to fix, not an outage. */
  | 'credentials_refused';

/** user-service could not give an answer (as opposed to answering "no such user"). */
export class UserServiceUnavailableError extends Error {
  override readonly name = 'UserServiceUnavailableError';
  constructor(
    readonly reason: UnavailableReason,
    /** When it is worth asking again; sent to clients as `Retry-After`. */
    readonly retryAfterSeconds: number,
  ) {
    super(`user-service unavailable: ${reason}`);
  }
}

/** The id cannot name a user (not storable text): the caller's mistake, decided before any call. */
export class InvalidUserIdError extends Error {
  override readonly name = 'InvalidUserIdError';
  constructor() {
    super('the user id is not well-formed Unicode without NUL');
  }
}

export interface UserClient {
  /** The user, null when user-service says it does not exist; throws UserServiceUnavailableError otherwise. */
  getUser(userId: string, context: { requestId: string }): Promise<UserRef | null>;
  /** Resolves when user-service reports itself ready; bypasses the breaker so probes never trip it. */
  checkReady(signal: AbortSignal): Promise<void>;
}

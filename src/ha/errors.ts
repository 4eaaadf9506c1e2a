/**
 * The errors of the HA services (`LeaderElectionException`, `LeaderRetrievalException`) and `toError`, which turns
 * anything thrown into an `Error`.
 */

/** `value` as an `Error` (wrapping anything else that was thrown). */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Raised to a contender or listener when the HA backend fails. */
export class LeaderElectionException extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LeaderElectionException';
  }
}

/** Raised to a retrieval listener when the HA backend fails. */
export class LeaderRetrievalException extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LeaderRetrievalException';
  }
}

/**
 * How failures become HTTP answers: every error leaves the REST server as a status code and Flink's
 * `{ "errors": [...] }` body, never as a crash.
 */

/** An error with the HTTP status it should be answered with. */
export class RestHandlerException extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'RestHandlerException';
  }
}

/** Errors raised when the Dispatcher leader cannot be reached (none elected, changing, or its process gone). */
const UNAVAILABLE = new Set([
  'LeaderGatewayUnavailableException',
  'FencingTokenException',
  'RpcConnectionException',
  'RecipientUnreachableException',
  'EndpointNotStartedException',
  'HandshakeException',
  'RpcTimeoutException',
]);

/** Errors of the control plane that mean "the request is wrong", by name (names survive the RPC codec). */
const STATUS_BY_NAME: Readonly<Record<string, number>> = {
  JobSubmissionException: 400,
  DuplicateJobSubmissionException: 409,
  FlinkJobNotFoundException: 404,
  UnknownComponentException: 404,
  CheckpointException: 409,
};

/** The status and message to answer `error` with. */
export function toRestHandlerException(error: unknown): RestHandlerException {
  if (error instanceof RestHandlerException) return error;
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const status = STATUS_BY_NAME[name];
  if (status !== undefined) return new RestHandlerException(status, message);
  if (UNAVAILABLE.has(name)) {
    return new RestHandlerException(503, `The Dispatcher leader is not available: ${message}`, { 'Retry-After': '1' });
  }
  return new RestHandlerException(500, `Internal server error: ${name}: ${message}`);
}

/**
 * The errors of the RPC system, and the wording of each failure. Every class has `name` equal to its class name, so
 * an error keeps its identity when it crosses a process boundary (the codec rebuilds these classes by name). Every
 * layer raises its failures through the factories at the end of this module, so each message is written once
 * (Flink's text where Flink has one).
 */

/** Base of every RPC failure. */
export class RpcException extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Connecting to an endpoint failed: unknown address, nothing listening, unreachable host, refused TLS. */
export class RpcConnectionException extends RpcException {}

/** The handshake failed: protocol version mismatch, or the endpoint does not serve the requested gateway. */
export class HandshakeException extends RpcConnectionException {}

/** An ask got no reply in time. Names the method and the recipient. */
export class RpcTimeoutException extends RpcException {}

/** A message carried another fencing token than the endpoint's, or none at all. */
export class FencingTokenException extends RpcException {}

/** The recipient terminated, or the remote service cannot be reached any more. */
export class RecipientUnreachableException extends RpcException {}

/** A message reached an endpoint that has not been started yet. */
export class EndpointNotStartedException extends RpcException {}

/** `RpcSystem.load()` found no usable implementation. */
export class RpcLoaderException extends RpcException {}

/**
 * The rejection of a cancelled scheduled task's `result` (`ScheduledTask.cancel()`). Not an `RpcException`:
 * cancelling is the caller's own decision, not a failure of the RPC system.
 */
export class TaskCancelledError extends Error {
  constructor() {
    super('The scheduled task was cancelled.');
    this.name = 'TaskCancelledError';
  }
}

/** Every error class of the RPC system, by name: the codec uses it to rebuild remote errors. */
export const RPC_ERROR_CLASSES: ReadonlyMap<string, new (message: string, options?: { cause?: unknown }) => Error> =
  new Map(
    [
      RpcException,
      RpcConnectionException,
      HandshakeException,
      RpcTimeoutException,
      FencingTokenException,
      RecipientUnreachableException,
      EndpointNotStartedException,
      RpcLoaderException,
    ].map((cls) => {
      // An own, non-enumerable `name` on the prototype survives minification and shows in stacks.
      Object.defineProperty(cls.prototype, 'name', { value: cls.name, writable: true, configurable: true });
      return [cls.name, cls] as const;
    }),
  );

/** `connect` could not reach the endpoint at `address`. */
export function couldNotConnect(address: string, cause?: unknown, detail?: string): RpcConnectionException {
  return new RpcConnectionException(
    `Could not connect to rpc endpoint under address ${address}.${detail === undefined ? '' : ` ${detail}`}`,
    cause === undefined ? undefined : { cause },
  );
}

/** The endpoint at `address` does not serve the gateway named `gateway`. */
export function gatewayNotServed(address: string, gateway: string): HandshakeException {
  return new HandshakeException(`The rpc endpoint ${address} does not support the gateway ${gateway}.`);
}

/** The peer speaks another protocol version. */
export function versionMismatch(ours: number, theirs: number): HandshakeException {
  return new HandshakeException(
    `Version mismatch between source (${ours}) and target (${theirs}) rpc component. Please verify that all ` +
      'components have the same version.',
  );
}

/** A message (`what`: its kind and method) could not reach `recipient` (Flink's dead-letter text). */
export function recipientUnreachable(what: string, recipient: string, cause?: unknown): RecipientUnreachableException {
  return new RecipientUnreachableException(
    `Could not send message [${what}] to recipient [${recipient}], because the recipient is unreachable. This can ` +
      'either mean that the recipient has been terminated or that the remote RpcService is currently not reachable.',
    cause === undefined ? undefined : { cause },
  );
}

/** A call still pending when its service closed. */
export function closedWhilePending(): RecipientUnreachableException {
  return new RecipientUnreachableException(
    'The RpcService was closed while the call was pending: the recipient is unreachable.',
  );
}

/** The service no longer accepts endpoints, connections or calls. */
export function serviceStopped(): RpcException {
  return new RpcException('RpcService is stopped');
}

/** Why the connections of a closing service end (the cause behind the failures of what they still carried). */
export function serviceClosed(): RpcException {
  return new RpcException('The RpcService is closed.');
}

/** A request larger than the peer accepts; it is never sent. */
export function requestTooLarge(method: string, size: number, max: number): RpcException {
  return new RpcException(
    `The rpc invocation size ${size} of method ${method} exceeds the maximum framesize ${max} and was not sent.`,
  );
}

/** A result larger than the caller accepts (Flink's text). */
export function resultTooLarge(method: string, size: number, max: number): RpcException {
  return new RpcException(`The method ${method}'s result size ${size} exceeds the maximum size ${max} .`);
}

/** The remote endpoint does not serve the method a peer asked for. */
export function methodRefused(gateway: string, method: string, address: string): RpcException {
  return new RpcException(
    `Refused to invoke ${gateway}.${method} on ${address}: it is not a method of a gateway the endpoint serves.`,
  );
}

/** The message of a failure's cause, on one line, for logs and error details. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}

/**
 * The errors of the RPC system. Every class has `name` equal to its class name, so an error keeps its identity when
 * it crosses a process boundary (the codec rebuilds these classes by name).
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

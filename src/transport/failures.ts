/** The errors the transport raises, worded once (Flink's texts where Flink has one). */

import {
  HandshakeException,
  RecipientUnreachableException,
  RpcConnectionException,
  RpcException,
} from '../rpc/errors.js';

/** `connect` could not reach the endpoint. */
export function cannotConnect(address: string, cause?: unknown, detail?: string): RpcConnectionException {
  return new RpcConnectionException(
    `Could not connect to rpc endpoint under address ${address}.${detail === undefined ? '' : ` ${detail}`}`,
    cause === undefined ? undefined : { cause },
  );
}

/** The peer speaks another protocol version (Flink's text). */
export function versionMismatch(ours: number, theirs: number): HandshakeException {
  return new HandshakeException(
    `Version mismatch between source (${ours}) and target (${theirs}) rpc component. Please verify that all ` +
      'components have the same version.',
  );
}

/** The endpoint does not serve the gateway (Flink's text, with the address). */
export function gatewayNotServed(address: string, gateway: string): HandshakeException {
  return new HandshakeException(`The rpc endpoint ${address} does not support the gateway ${gateway}.`);
}

/** A message could not reach its recipient (Flink's dead-letter text). */
export function unreachable(what: string, recipient: string, cause?: unknown): RecipientUnreachableException {
  return new RecipientUnreachableException(
    `Could not send message [${what}] to recipient [${recipient}], because the recipient is unreachable. This can ` +
      'either mean that the recipient has been terminated or that the remote RpcService is currently not reachable.',
    cause === undefined ? undefined : { cause },
  );
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

/** The remote endpoint does not declare the method a peer asked for. */
export function methodRefused(gateway: string, method: string, address: string): RpcException {
  return new RpcException(
    `Refused to invoke ${gateway}.${method} on ${address}: it is not a method of a gateway the endpoint serves.`,
  );
}

/** A message for the detail of a cause, on one line. */
export function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}

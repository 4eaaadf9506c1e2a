/**
 * Fencing: which messages an endpoint accepts by their fencing token, checked before an RPC reaches the endpoint
 * (as Flink's fenced actor does around its message handling). A fenced endpoint accepts only messages carrying its
 * own token (compared by value); an endpoint that is not fenced refuses messages that carry one.
 */

import { isDeepStrictEqual } from 'node:util';
import { FencingTokenException, RpcException } from '../errors.js';
import { FencedRpcEndpoint, type RpcEndpoint } from '../RpcService.js';
import type { Envelope } from './messages.js';

/** Why `envelope` may not reach the endpoint, or undefined when it may. */
export type FencingCheck = (envelope: Envelope) => RpcException | undefined;

/** The fencing check of `endpoint`, reachable at `address` (named in the errors). */
export function fencingCheckOf(endpoint: RpcEndpoint, address: string): FencingCheck {
  if (!(endpoint instanceof FencedRpcEndpoint)) {
    return (envelope) =>
      envelope.fenced
        ? new RpcException(
            `Received unknown message ${envelope.describe()} with fencing token ${formatToken(envelope.token)}: ` +
              `the endpoint ${address} is not fenced.`,
          )
        : undefined;
  }
  const fenced = endpoint as FencedRpcEndpoint<unknown>;
  return (envelope) => {
    if (!envelope.fenced) {
      return new FencingTokenException(
        `Fencing token not set: Ignoring message ${envelope.describe()} sent to ${address} because it carries ` +
          'no fencing token (it was sent through a gateway connected without one).',
      );
    }
    const expected = fenced.getFencingToken();
    const token = envelope.token;
    if (token !== expected && !isDeepStrictEqual(token, expected)) {
      return new FencingTokenException(
        `Fencing token mismatch: Ignoring message ${envelope.describe()} because the fencing token ` +
          `${formatToken(token)} did not match the expected fencing token ${formatToken(expected)}.`,
      );
    }
    return undefined;
  };
}

function formatToken(token: unknown): string {
  if (typeof token === 'string') return token;
  try {
    return JSON.stringify(token) ?? String(token);
  } catch {
    return String(token);
  }
}

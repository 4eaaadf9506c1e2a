/**
 * Where node-zookeeper-client (1.1.3, unmaintained) lacks a behaviour we need and we reach into its
 * `ConnectionManager` (its socket). Feature-detected: if the internals ever look different, these do nothing and
 * only the improvement is lost.
 */

import type { Client } from 'node-zookeeper-client';

interface ConnectionManagerInternals {
  socket?: { destroy(): void } | null;
  connectTimeoutHandler?: ReturnType<typeof setTimeout> | null;
}

function internals(client: Client): ConnectionManagerInternals | undefined {
  const manager = (client as unknown as { connectionManager?: unknown }).connectionManager;
  return typeof manager === 'object' && manager !== null ? (manager as ConnectionManagerInternals) : undefined;
}

/**
 * Drops the client's socket so that it reconnects at once (to the same session, if the server still has it).
 * The official Java client does this when it hears nothing for 2/3 of the session timeout; nzc has no read timeout
 * and would otherwise sit on a dead (half-open) connection, or a handshake nobody answers, forever.
 */
export function dropConnection(client: Client): void {
  internals(client)?.socket?.destroy();
}

/**
 * Closes the client without waiting for the server. nzc's `close()` only queues a close-session request and waits
 * for the server to end the connection, which never happens on a dead connection. Once closing, nzc does not
 * reconnect, so dropping the socket ends it for good.
 */
export function closeNow(client: Client): void {
  client.close();
  const manager = internals(client);
  if (manager === undefined) return;
  if (manager.connectTimeoutHandler) clearTimeout(manager.connectTimeoutHandler);
  manager.connectTimeoutHandler = null;
  manager.socket?.destroy();
}

interface TransactionInternals {
  ops?: { version?: number }[];
}

/**
 * Makes the versions of a transaction's operations exact. nzc's `Transaction` turns a version of 0 into -1
 * (`version || -1`), which ZooKeeper reads as "any version": a check or a write meant for the first version of a
 * node would pass whatever the node holds, and two writers could both win a compare-and-set. Each operation's
 * version is written back onto the op nzc just queued.
 */
export function withExactVersions<T extends object>(transaction: T): T {
  const ops = (transaction as TransactionInternals).ops;
  if (!Array.isArray(ops)) return transaction;
  const exact = (method: 'check' | 'setData' | 'remove', versionIndex: number) => {
    const original = (transaction as Record<string, unknown>)[method];
    if (typeof original !== 'function') return;
    (transaction as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const result = original.apply(transaction, args);
      const version = args[versionIndex];
      const queued = ops[ops.length - 1];
      if (version === 0 && queued !== undefined) queued.version = 0;
      return result;
    };
  };
  exact('check', 1);
  exact('setData', 2);
  exact('remove', 1);
  return transaction;
}

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

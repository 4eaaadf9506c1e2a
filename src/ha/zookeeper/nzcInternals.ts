/**
 * The two places where node-zookeeper-client (1.1.3, unmaintained) lacks a behaviour we need, and we reach into its
 * `ConnectionManager`. Each is feature-detected: if the internals ever look different, we fall back to the public
 * API and lose only that improvement.
 */

import type { Client } from 'node-zookeeper-client';

interface ConnectionManagerInternals {
  socket?: { destroy(): void } | null;
  connectTimeoutHandler?: ReturnType<typeof setTimeout> | null;
  connect?: () => void;
  onSocketClosed?: (hadError: boolean) => void;
  onSocketConnected?: () => void;
}

function internals(client: Client): ConnectionManagerInternals | undefined {
  const manager = (client as unknown as { connectionManager?: unknown }).connectionManager;
  return typeof manager === 'object' && manager !== null ? (manager as ConnectionManagerInternals) : undefined;
}

/**
 * Drops the client's socket so that it reconnects at once (to the same session, if the server still has it).
 * The official Java client does this when it hears nothing for 2/3 of the session timeout; nzc has no read timeout
 * and would otherwise sit on a dead (half-open) connection forever.
 */
export function dropConnection(client: Client): void {
  internals(client)?.socket?.destroy();
}

/**
 * Stops the client for good without talking to the server. nzc's `close()` only queues a close-session request: while
 * it is disconnected it keeps reconnecting forever (a pending retry resets its CLOSING state). Used when the client is
 * not connected, or when a graceful close did not finish in time.
 */
export function stopClient(client: Client): void {
  const manager = internals(client);
  if (manager === undefined || typeof manager.connect !== 'function') {
    client.close();
    return;
  }
  const clearConnectTimer = () => {
    if (manager.connectTimeoutHandler) clearTimeout(manager.connectTimeoutHandler);
    manager.connectTimeoutHandler = null;
  };
  // Own properties shadow the prototype: handlers bound from now on (a retry already scheduled creates a socket
  // later) end the attempt instead of retrying.
  manager.connect = () => {};
  manager.onSocketConnected = () => manager.socket?.destroy();
  manager.onSocketClosed = () => clearConnectTimer();
  clearConnectTimer();
  manager.socket?.destroy();
  client.removeAllListeners();
}

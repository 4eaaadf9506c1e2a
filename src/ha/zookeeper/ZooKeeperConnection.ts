/**
 * One ZooKeeper session for the HA services of a process, on node-zookeeper-client (callbacks, one-shot watches),
 * turned into what the drivers need:
 * - Promise operations, each with a timeout (nzc has none: a request on a dead connection waits forever);
 * - two states, `connected` and `suspended` (Flink/Curator's SUSPENDED): suspended as soon as the connection drops,
 *   or when the server has not answered for half the session timeout, which is before the server can expire the
 *   session and let someone else lead;
 * - a new client after session expiry (nzc cannot recover from it): drivers see `connected` with a new
 *   {@link ZooKeeperConnection.session} number and rejoin.
 */

import {
  type Client,
  CreateMode,
  createClient,
  type Event,
  Exception,
  type Stat,
  State,
  type Transaction,
} from 'node-zookeeper-client';
import type { Logger } from '../../rpc/logger.js';
import { closeNow, dropConnection, withExactVersions } from './nzcInternals.js';

/** Connection settings; all durations in milliseconds. */
export interface ZooKeeperConnectionOptions {
  /** `host:port[,host:port…]`; use `127.0.0.1` rather than `localhost` (Node does not prefer IPv4). */
  connectString: string;
  /** Requested session timeout; the server may adjust it to its min/max bounds. */
  sessionTimeout: number;
  /** How long the first connection may take before creation fails. */
  connectionTimeout: number;
  logger: Logger;
}

/** What drivers observe. */
export type ConnectionState = 'connected' | 'suspended';

/** Thrown when ZooKeeper did not answer an operation in time (the operation may still take effect later). */
export class ZooKeeperTimeoutException extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZooKeeperTimeoutException';
  }
}

/** Thrown for an operation attempted after `close()` (or before the first client exists). */
export class ZooKeeperNotConnectedException extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZooKeeperNotConnectedException';
  }
}

/** True if `error` is a ZooKeeper error with `code` (one of nzc's `Exception.*` codes). */
export function isZooKeeperError(error: unknown, code: number): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { getCode?: unknown }).getCode === 'function' &&
    (error as { getCode(): number }).getCode() === code
  );
}

/** True for failures that mean "the connection is (or was) not usable": retried after the next `connected`. */
export function isConnectionProblem(error: unknown): boolean {
  return (
    error instanceof ZooKeeperTimeoutException ||
    error instanceof ZooKeeperNotConnectedException ||
    isZooKeeperError(error, Exception.CONNECTION_LOSS) ||
    isZooKeeperError(error, Exception.SESSION_EXPIRED) ||
    isZooKeeperError(error, Exception.OPERATION_TIMEOUT)
  );
}

type Watcher = (event: Event) => void;
type Callback<R> = (error: unknown, result?: R) => void;

const SPIN_DELAY_MS = 100;
const CLOSE_TIMEOUT_MS = 2_000;

/** A ZooKeeper session that survives disconnections and replaces itself after expiry. */
export class ZooKeeperConnection {
  private client: Client | null = null;
  private sessionNumber = 0;
  private connected = false;
  private closing = false;
  private readonly listeners = new Set<(state: ConnectionState) => void>();
  /** Ephemeral nodes to delete as soon as the connection is back, if the session that owns them survived. */
  private readonly removalsOnReconnect: { path: string; session: number }[] = [];
  private watchdog: ReturnType<typeof setInterval> | null = null;
  /** Send time of the newest probe the server answered: the server heard from us no earlier than this. */
  private lastAnsweredAt = 0;
  private lastProbeAt = 0;
  private probeInFlight = false;
  /** When the current connection attempt began (or the connection was lost); reset when one succeeds. */
  private attemptSince = Date.now();
  private readonly logger: Logger;

  private constructor(private readonly options: ZooKeeperConnectionOptions) {
    this.logger = options.logger;
  }

  /**
   * Connects; rejects if no connection is up within `connectionTimeout` (the client is stopped then).
   */
  static async connect(options: ZooKeeperConnectionOptions): Promise<ZooKeeperConnection> {
    const connection = new ZooKeeperConnection(options);
    await connection.start();
    return connection;
  }

  /** Increases by one with every new client, i.e. every new ZooKeeper session: ephemeral nodes of older ones are gone. */
  get session(): number {
    return this.sessionNumber;
  }

  /** True while connected and recently answered. */
  isConnected(): boolean {
    return this.connected && !this.closing;
  }

  /** The negotiated session timeout in milliseconds (the requested one before the first connection). */
  getSessionTimeout(): number {
    const negotiated = this.client?.getSessionTimeout() ?? 0;
    return negotiated > 0 ? negotiated : this.options.sessionTimeout;
  }

  /** True if `stat` is an ephemeral node of the current session. */
  ownsEphemeral(stat: Stat): boolean {
    const client = this.client;
    return client !== null && Buffer.compare(stat.ephemeralOwner, client.getSessionId()) === 0;
  }

  /** Subscribes to state changes; returns the unsubscribe function. */
  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- operations ------------------------------------------------------------------------------------------------

  create(path: string, data: Buffer, mode: number): Promise<string> {
    return this.call(`create ${path}`, (client, done: Callback<string>) =>
      client.create(path, data, mode, (error, created) => done(error, created)),
    );
  }

  /** Creates `path` and missing parents (persistent, empty); fine if it exists. */
  async mkdirp(path: string): Promise<void> {
    await this.call(`mkdirp ${path}`, (client, done: Callback<string>) =>
      client.mkdirp(path, (error, created) => done(error, created)),
    );
  }

  /** The node's stat, or `null` if it does not exist; `watcher` fires on its creation, change or deletion. */
  exists(path: string, watcher?: Watcher): Promise<Stat | null> {
    return this.call(`exists ${path}`, (client, done: Callback<Stat | null>) => {
      const callback = (error: unknown, stat: Stat) => done(error, stat ?? null);
      if (watcher) client.exists(path, watcher, callback);
      else client.exists(path, callback);
    });
  }

  getChildren(path: string, watcher?: Watcher): Promise<string[]> {
    return this.call(`getChildren ${path}`, (client, done: Callback<string[]>) => {
      const callback = (error: unknown, children: string[]) => done(error, children);
      if (watcher) client.getChildren(path, watcher, callback);
      else client.getChildren(path, callback);
    });
  }

  /** The node's data and stat, or `null` if it does not exist (then no watch is set: use `exists`). */
  async getData(path: string, watcher?: Watcher): Promise<{ data: Buffer | null; stat: Stat } | null> {
    try {
      return await this.call(`getData ${path}`, (client, done: Callback<{ data: Buffer | null; stat: Stat }>) => {
        const callback = (error: unknown, data: Buffer, stat: Stat) => done(error, { data: data ?? null, stat });
        if (watcher) client.getData(path, watcher, callback);
        else client.getData(path, callback);
      });
    } catch (error) {
      if (isZooKeeperError(error, Exception.NO_NODE)) return null;
      throw error;
    }
  }

  /** Deletes a node; resolves `false` if it did not exist. */
  async remove(path: string, version = -1): Promise<boolean> {
    try {
      await this.call(`remove ${path}`, (client, done: Callback<void>) => client.remove(path, version, done));
      return true;
    } catch (error) {
      if (isZooKeeperError(error, Exception.NO_NODE)) return false;
      throw error;
    }
  }

  /**
   * Deletes the ephemeral node `path` of the current session once the connection is up again. For a node that must
   * go while ZooKeeper is unreachable (a contender leaving its election): the session may survive the outage, and the
   * node with it. If the session ends instead, the server deletes the node itself and nothing is done here.
   */
  removeWhenReconnected(path: string): void {
    this.removalsOnReconnect.push({ path, session: this.sessionNumber });
    if (this.isConnected()) this.runRemovalsOnReconnect();
  }

  private runRemovalsOnReconnect(): void {
    for (const removal of this.removalsOnReconnect.splice(0)) {
      if (removal.session !== this.sessionNumber) continue;
      this.remove(removal.path).catch((error: unknown) => {
        if (isConnectionProblem(error)) this.removalsOnReconnect.push(removal);
        else
          this.logger.warn({ err: error, path: removal.path }, 'Could not delete a node left from before an outage.');
      });
    }
  }

  /** Deletes `path` and everything below it; fine if it does not exist. */
  async removeRecursive(path: string): Promise<void> {
    let children: string[];
    try {
      children = await this.getChildren(path);
    } catch (error) {
      if (isZooKeeperError(error, Exception.NO_NODE)) return;
      throw error;
    }
    for (const child of children) await this.removeRecursive(`${path}/${child}`);
    await this.remove(path);
  }

  /** Commits a multi-operation built by `build`: all of it or nothing. Rejects with the first failing op's error. */
  async commit(what: string, build: (transaction: Transaction) => void): Promise<void> {
    await this.call(what, (client, done: Callback<unknown>) => {
      const transaction = withExactVersions(client.transaction());
      build(transaction);
      transaction.commit((error, results) => done(error, results));
    });
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------------

  /** Closes the session (its ephemeral nodes vanish at once when the server is reachable). Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.connected = false;
    this.listeners.clear();
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    const client = this.client;
    this.client = null;
    if (client !== null) await this.shutDownClient(client);
    this.logger.debug('ZooKeeper connection closed.');
  }

  private async start(): Promise<void> {
    const connected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(
          new Error(
            `Could not connect to ZooKeeper at ${this.options.connectString} within ${this.options.connectionTimeout} ms.`,
          ),
        );
      }, this.options.connectionTimeout);
      const unsubscribe = this.onStateChange((state) => {
        if (state !== 'connected') return;
        clearTimeout(timer);
        unsubscribe();
        resolve();
      });
    });
    // Half the session timeout without an answer means suspended; checking at 1/8 keeps the decision well before the
    // server could expire the session (after a full timeout without hearing from us).
    this.watchdog = setInterval(() => this.checkLiveness(), Math.max(10, Math.floor(this.options.sessionTimeout / 8)));
    this.newClient();
    try {
      await connected;
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  private newClient(): void {
    const client = createClient(this.options.connectString, {
      sessionTimeout: this.options.sessionTimeout,
      spinDelay: SPIN_DELAY_MS,
      retries: 0,
    });
    this.sessionNumber += 1;
    this.client = client;
    client.on('state', (state: State) => {
      if (client === this.client && !this.closing) this.onClientState(client, state);
    });
    client.connect();
  }

  private onClientState(client: Client, state: State): void {
    this.logger.debug({ state: state.name, session: this.sessionNumber }, 'ZooKeeper client state.');
    if (state === State.SYNC_CONNECTED) {
      this.lastAnsweredAt = Date.now();
      this.probeInFlight = false;
      this.setConnected(true);
    } else if (state === State.DISCONNECTED) {
      this.attemptSince = Date.now();
      this.setConnected(false);
    } else if (state === State.EXPIRED) {
      this.logger.warn({ session: this.sessionNumber }, 'ZooKeeper session expired; starting a new session.');
      this.setConnected(false);
      this.client = null;
      closeNow(client);
      this.attemptSince = Date.now();
      this.newClient();
    } else if (state === State.AUTH_FAILED) {
      this.logger.error('ZooKeeper authentication failed.');
      this.setConnected(false);
    }
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    const state: ConnectionState = connected ? 'connected' : 'suspended';
    if (connected) this.logger.info({ session: this.sessionNumber }, 'Connected to ZooKeeper.');
    else this.logger.warn({ session: this.sessionNumber }, 'ZooKeeper connection suspended.');
    if (connected && this.removalsOnReconnect.length > 0) this.runRemovalsOnReconnect();
    for (const listener of [...this.listeners]) {
      try {
        listener(state);
      } catch (error) {
        this.logger.error({ err: error }, 'ZooKeeper connection listener threw.');
      }
    }
  }

  private checkLiveness(): void {
    const client = this.client;
    if (client === null || this.closing) return;
    const sessionTimeout = this.getSessionTimeout();
    const now = Date.now();
    if (client.getState() !== State.SYNC_CONNECTED) {
      // nzc stops its connect timer once TCP connects, then waits for the handshake forever; a server that is still
      // starting sometimes accepts and never answers. Drop such an attempt so that nzc makes a new one.
      if (now - this.attemptSince > sessionTimeout / 3) {
        this.logger.debug('ZooKeeper connection attempt stalled; retrying.');
        this.attemptSince = now;
        dropConnection(client);
      }
      return;
    }
    if (this.connected && now - this.lastAnsweredAt > sessionTimeout / 2) {
      this.logger.warn({ silentMs: now - this.lastAnsweredAt }, 'ZooKeeper stopped answering; reconnecting.');
      this.setConnected(false);
      this.probeInFlight = false;
      this.attemptSince = now;
      dropConnection(client);
      return;
    }
    if (this.probeInFlight || now - this.lastProbeAt < sessionTimeout / 4) return;
    this.probeInFlight = true;
    this.lastProbeAt = now;
    client.exists('/', (error) => {
      if (client !== this.client) return;
      this.probeInFlight = false;
      if (error) return;
      this.lastAnsweredAt = Math.max(this.lastAnsweredAt, now);
      // A connection suspended by this watchdog whose socket could not be dropped comes back here.
      if (!this.connected) this.setConnected(true);
    });
  }

  private call<R>(what: string, invoke: (client: Client, done: Callback<R>) => void): Promise<R> {
    const client = this.client;
    if (client === null || this.closing) {
      return Promise.reject(new ZooKeeperNotConnectedException(`Cannot ${what}: the ZooKeeper connection is closed.`));
    }
    const timeoutMs = this.getSessionTimeout();
    return new Promise<R>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new ZooKeeperTimeoutException(`ZooKeeper did not answer ${what} within ${timeoutMs} ms.`));
      }, timeoutMs);
      try {
        invoke(client, (error, result) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (error) reject(error);
          else resolve(result as R);
        });
      } catch (error) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      }
    });
  }

  private async shutDownClient(client: Client): Promise<void> {
    if (client.getState() !== State.SYNC_CONNECTED) {
      closeNow(client);
      return;
    }
    // Graceful: the server ends the session and deletes its ephemeral nodes right away.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        dropConnection(client);
        resolve();
      }, CLOSE_TIMEOUT_MS);
      client.once('disconnected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.close();
    });
  }
}

export { CreateMode, Exception };

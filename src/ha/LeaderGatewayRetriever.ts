/**
 * Keeps a fenced gateway to the current leader of a component (Flink's `RpcGatewayRetriever` with the
 * `notifyLeaderAddress → connect(address, token, Gateway)` dance every component would otherwise repeat).
 */

import type { FencedRpcGateway, GatewayDescriptor } from '../rpc/gateway.js';
import { getDefaultLogger, type Logger } from '../rpc/logger.js';
import type { FencingTokenOf, RpcService } from '../rpc/RpcService.js';
import type { LeaderInformation } from './LeaderInformation.js';
import type { LeaderRetrievalListener, LeaderRetrievalService } from './LeaderRetrieval.js';

/** Options of {@link LeaderGatewayRetriever}. */
export interface LeaderGatewayRetrieverOptions<F> {
  /** Turns a leader session id into the gateway's fencing token. Default: the session id itself (a string token). */
  toFencingToken?: (sessionId: string) => F;
  /** First delay before retrying a failed connect to the current leader; doubles up to `maxRetryDelayMs`. Default 50. */
  retryDelayMs?: number;
  /** Default 2 000. */
  maxRetryDelayMs?: number;
  logger?: Logger;
}

/** A change of the leader's gateway: `null` while there is no (connected) leader. */
export type LeaderGatewayListener<G> = (gateway: G | null, leader: LeaderInformation | null) => void;

/** Raised by {@link LeaderGatewayRetriever.getGateway} when it times out or the retriever is closed. */
export class LeaderGatewayUnavailableException extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaderGatewayUnavailableException';
  }
}

interface Waiter<G> {
  resolve(gateway: G): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Follows a {@link LeaderRetrievalService} and connects to each new leader with its session id as fencing token.
 * A connect that finishes after a newer leader was announced is discarded; a failed connect to the current leader is
 * retried with backoff until it succeeds or the leader changes.
 *
 * ```ts
 * const rm = new LeaderGatewayRetriever(rpcService, ResourceManagerGateway);
 * await rm.start(haServices.getResourceManagerLeaderRetriever());
 * const gateway = await rm.getGateway(10_000);   // waits for a leader
 * ```
 */
export class LeaderGatewayRetriever<G extends FencedRpcGateway<unknown>> implements LeaderRetrievalListener {
  private retrieval: LeaderRetrievalService | null = null;
  private leader: LeaderInformation | null = null;
  private gateway: G | null = null;
  /** Increments with every leader notification: results of older connects are stale. */
  private generation = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly waiters = new Set<Waiter<G>>();
  private readonly listeners = new Set<LeaderGatewayListener<G>>();
  private readonly toFencingToken: (sessionId: string) => FencingTokenOf<G>;
  private readonly logger: Logger;

  constructor(
    private readonly rpcService: RpcService,
    private readonly descriptor: GatewayDescriptor<G>,
    private readonly options: LeaderGatewayRetrieverOptions<FencingTokenOf<G>> = {},
  ) {
    this.toFencingToken = options.toFencingToken ?? ((sessionId) => sessionId as FencingTokenOf<G>);
    this.logger = (options.logger ?? getDefaultLogger()).child({ gatewayRetriever: descriptor.name });
  }

  /** Starts following `retrieval` (this retriever owns it from now on and stops it on `close`). */
  async start(retrieval: LeaderRetrievalService): Promise<void> {
    if (this.retrieval !== null || this.closed) throw new Error('LeaderGatewayRetriever can be started once.');
    this.retrieval = retrieval;
    await retrieval.start(this);
  }

  /** The gateway to the current leader, if connected. */
  getNow(): G | null {
    return this.gateway;
  }

  /** The current leader as announced (connected or not yet). */
  getLeader(): LeaderInformation | null {
    return this.leader;
  }

  /**
   * The gateway to the current leader; waits until there is one and it is connected.
   * @param timeoutMs reject with {@link LeaderGatewayUnavailableException} after this long (default: wait forever)
   */
  getGateway(timeoutMs?: number): Promise<G> {
    if (this.gateway !== null) return Promise.resolve(this.gateway);
    if (this.closed) return Promise.reject(new LeaderGatewayUnavailableException('The gateway retriever is closed.'));
    return new Promise<G>((resolve, reject) => {
      const waiter: Waiter<G> = { resolve, reject, timer: undefined };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.waiters.delete(waiter);
          reject(
            new LeaderGatewayUnavailableException(
              `No leader for ${this.descriptor.name} within ${timeoutMs} ms (last known: ${this.leader?.address ?? 'none'}).`,
            ),
          );
        }, timeoutMs);
      }
      this.waiters.add(waiter);
    });
  }

  /** Calls `listener` on every gateway change (new leader connected, or leader gone). Returns the unsubscribe function. */
  onChange(listener: LeaderGatewayListener<G>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the retrieval and fails pending `getGateway` calls. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.generation += 1;
    clearTimeout(this.retryTimer);
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new LeaderGatewayUnavailableException('The gateway retriever is closed.'));
    }
    this.waiters.clear();
    this.listeners.clear();
    await this.retrieval?.stop();
  }

  /** @internal LeaderRetrievalListener */
  notifyLeaderAddress(address: string | null, sessionId: string | null): void {
    if (this.closed) return;
    this.generation += 1;
    clearTimeout(this.retryTimer);
    this.leader = address !== null && sessionId !== null ? { address, sessionId } : null;
    if (this.gateway !== null) this.setGateway(null);
    if (this.leader !== null) this.connect(this.leader, this.generation, this.options.retryDelayMs ?? 50);
  }

  /** @internal LeaderRetrievalListener */
  handleError(error: Error): void {
    this.logger.error({ err: error }, 'Leader retrieval failed.');
  }

  private connect(leader: LeaderInformation, generation: number, retryDelayMs: number): void {
    const token = this.toFencingToken(leader.sessionId);
    this.rpcService.connect<G>(leader.address, token, this.descriptor).then(
      (gateway) => {
        if (generation !== this.generation) {
          this.logger.debug({ address: leader.address }, 'Discarding the connection to a superseded leader.');
          return;
        }
        this.setGateway(gateway);
      },
      (error: unknown) => {
        if (generation !== this.generation) return;
        this.logger.debug({ err: error, address: leader.address, retryDelayMs }, 'Connecting to the leader failed.');
        this.retryTimer = setTimeout(
          () => this.connect(leader, generation, Math.min(retryDelayMs * 2, this.options.maxRetryDelayMs ?? 2_000)),
          retryDelayMs,
        );
      },
    );
  }

  private setGateway(gateway: G | null): void {
    this.gateway = gateway;
    if (gateway !== null) {
      for (const waiter of this.waiters) {
        clearTimeout(waiter.timer);
        waiter.resolve(gateway);
      }
      this.waiters.clear();
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(gateway, gateway === null ? null : this.leader);
      } catch (error) {
        this.logger.error({ err: error }, 'LeaderGatewayRetriever listener threw.');
      }
    }
  }
}

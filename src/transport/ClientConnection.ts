/**
 * The client side of the transport: `RemoteTarget`, what a proxy of a remote endpoint delivers to, and
 * `ClientConnection`, the outbound connection of a service to one remote service: every gateway this service holds
 * to endpoints of that service sends its calls over it. It keeps the table of requests awaiting an answer (asks and handshakes) and the
 * routes it declared (endpoint + gateway + method, sent once as a DECLARE and then named by number in every call).
 */

import type { Socket } from 'node:net';
import { argumentSerializationMessage, SerializationError } from '../codec/errors.js';
import { type Envelope, MESSAGE_ASK } from '../rpc/actor/messages.js';
import type { AskOwner, RemoteAsk } from '../rpc/actor/PendingAsk.js';
import type { RpcTarget } from '../rpc/actor/proxy.js';
import {
  describeCause,
  RpcConnectionException,
  RpcException,
  RpcTimeoutException,
  recipientUnreachable,
  requestTooLarge,
  serviceClosed,
  versionMismatch,
} from '../rpc/errors.js';
import type { MethodInfo } from '../rpc/gateway.js';
import { Connection, type ConnectionContext } from './Connection.js';
import {
  encodeFrame,
  FEATURE_CANCEL,
  FEATURE_TRACE_CONTEXT,
  FRAME_NAMES,
  FrameFields,
  FrameKind,
  frameSize,
  isWireTraceContext,
  LENGTH_SIZE,
  MAX_ROUTES,
  MIN_PEER_FRAME_SIZE,
  PROTOCOL_VERSION,
  readAnswer,
  readAsk,
  readKind,
  traceContextSize,
  type WireTraceContext,
  writeAsk,
  writeCancel,
  writeDeclare,
  writeHandshake,
  writeTell,
} from './frames.js';
import { RequestTable } from './RequestTable.js';

/** A request in the table: an ask of a proxy, or a handshake of `connect`. */
interface Outstanding {
  owner: AskOwner | null;
  requestId: number;
  readonly method: MethodInfo | null;
  readonly recipient: string;
  succeed(value: unknown): void;
  fail(error: unknown): void;
}

/** A `connect` handshake awaiting its REPLY; it has its own timer (handshakes are rare, asks use the deadline queue). */
class HandshakeCall implements Outstanding {
  owner: AskOwner | null = null;
  requestId = 0;
  readonly method = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly connection: ClientConnection,
    readonly recipient: string,
    private readonly resolve: (status: unknown) => void,
    private readonly reject: (error: unknown) => void,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(() => {
      this.connection.forgetRequest(this.requestId);
      this.fail(new RpcTimeoutException(`The handshake with ${recipient} timed out after ${timeoutMs} ms.`));
    }, timeoutMs);
    this.timer.unref();
  }

  succeed(status: unknown): void {
    clearTimeout(this.timer);
    this.resolve(status);
  }

  fail(error: unknown): void {
    clearTimeout(this.timer);
    this.reject(error);
  }
}

/** The message of an argument that cannot be serialized, naming method and argument. */
function serializationFailure(method: MethodInfo, error: unknown, fenced: boolean): RpcException {
  if (fenced && error instanceof SerializationError && error.segments[0] === 0) {
    return new RpcException(
      `Could not serialize the fencing token of method ${method.qualifiedName}: ${error.describe('token', 1)}`,
      { cause: error },
    );
  }
  return new RpcException(argumentSerializationMessage(method.qualifiedName, error, fenced ? [1] : []), {
    cause: error,
  });
}

export class ClientConnection extends Connection implements AskOwner {
  /** Resolves once the peer's preamble arrived (version checked); rejects when the connection fails before. */
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (error: unknown) => void;
  private readonly requests = new RequestTable<Outstanding>();
  /** The fields of the frame being read (reused). */
  private readonly fields = new FrameFields();
  private readonly routes = new Map<string, number>();
  private readonly connectTimer: NodeJS.Timeout;
  /** Tells queued before the connection was up (logged if they are dropped). */
  private queuedTells = 0;
  /** CANCEL frames queued before the peer said whether it understands them. */
  private queuedCancels = 0;

  constructor(
    ctx: ConnectionContext,
    socket: Socket,
    remote: string,
    /** The pool key of the peer service. */
    readonly key: string,
  ) {
    super(ctx, socket, remote);
    this.writer.hold();
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {});
    const timeout = ctx.config.connectTimeout;
    this.connectTimer = setTimeout(() => {
      this.close(new RpcConnectionException(`${remote} did not answer within the connect timeout of ${timeout} ms.`));
    }, timeout);
    this.connectTimer.unref();
  }

  // ---- inbound ----------------------------------------------------------------------------------------------------

  protected override get direction(): 'outbound' {
    return 'outbound';
  }

  onPreamble(version: number, peerMaxFrameSize: number, features: number): boolean {
    if (version !== PROTOCOL_VERSION) {
      this.log.warn(
        { remote: this.remote, version },
        `The RPC service at ${this.remote} speaks protocol version ${version}, this one ${PROTOCOL_VERSION}.`,
      );
      this.close(versionMismatch(PROTOCOL_VERSION, version));
      return false;
    }
    if (peerMaxFrameSize < MIN_PEER_FRAME_SIZE) {
      this.violation(`a maximum frame size of ${peerMaxFrameSize} bytes in its preamble`);
      return false;
    }
    clearTimeout(this.connectTimer);
    const cancels = (features & FEATURE_CANCEL) !== 0;
    if (peerMaxFrameSize < this.sendLimit || (!cancels && this.queuedCancels > 0)) {
      this.sendLimit = Math.min(this.sendLimit, peerMaxFrameSize);
      // Calls queued while connecting were checked against our own limit only, and cancels were queued before the
      // peer said whether it understands them.
      if (this.writer.pending() > 0) this.writer.filter((frame) => this.fitsPeer(frame, cancels));
    }
    this.queuedCancels = 0;
    this.markEstablished(features);
    this.queuedTells = 0;
    this.writer.release();
    this.resolveReady();
    return true;
  }

  protected handleFrame(kind: number, buf: Buffer, start: number, end: number): void {
    if (kind !== FrameKind.REPLY && kind !== FrameKind.ERROR) {
      this.violation(`a ${FRAME_NAMES[kind]} frame, which only clients send`);
      return;
    }
    const fields = this.fields;
    readAnswer(buf, start, fields);
    const call = this.requests.take(fields.requestId);
    // Unknown: the ask timed out (or was never made); its late answer is dropped.
    if (call === undefined) return;
    call.owner = null;
    let value: unknown;
    try {
      value = this.ctx.codec.decode(buf, fields.payloadStart, end);
    } catch (error) {
      const what = call.method === null ? 'handshake' : `RPC method ${call.method.qualifiedName}`;
      call.fail(
        new RpcException(`Could not deserialize the ${kind === FrameKind.REPLY ? 'result' : 'error'} of ${what}.`, {
          cause: error,
        }),
      );
      return;
    }
    if (kind === FrameKind.REPLY) call.succeed(value);
    else call.fail(value);
  }

  /**
   * True when a queued frame may go to the peer; otherwise fails its ask (or drops its tell) and returns false. A
   * CANCEL goes only to a peer that understands it (`cancels`).
   */
  private fitsPeer(frame: Buffer, cancels: boolean): boolean {
    const kind = readKind(frame, LENGTH_SIZE);
    if (kind === FrameKind.CANCEL) return cancels;
    const size = frameSize(frame);
    if (size <= this.sendLimit) return true;
    if (kind === FrameKind.ASK) {
      readAsk(frame, LENGTH_SIZE, this.fields);
      const call = this.requests.take(this.fields.requestId);
      if (call !== null && call !== undefined) {
        call.owner = null;
        const method = call.method?.qualifiedName ?? 'unknown';
        call.fail(requestTooLarge(method, size, this.sendLimit));
      }
    } else {
      this.log.warn(
        { remote: this.remote, size, max: this.sendLimit },
        `Dropping a queued ${FRAME_NAMES[kind]} of ${size} bytes: ${this.remote} accepts at most ${this.sendLimit}.`,
      );
    }
    return false;
  }

  protected checkOpening(): void {
    // The connect timer covers the opening of an outbound connection.
  }

  // ---- outbound ---------------------------------------------------------------------------------------------------

  /** `AskOwner`: an ask settled elsewhere (timeout, service shutdown); its answer will be dropped. */
  onAskSettled(ask: RemoteAsk): void {
    this.requests.take(ask.requestId);
  }

  /** `AskOwner`: the caller aborted the ask. Forgets it at once (a late answer is dropped) and tells the peer. */
  onAskCancelled(ask: RemoteAsk): void {
    const id = ask.requestId;
    if (this.requests.take(id) === undefined || this.closed) return;
    if (!this.established) {
      this.queuedCancels++;
      this.writer.push(writeCancel(id));
    } else if ((this.peerFeatures & FEATURE_CANCEL) !== 0) {
      this.writer.push(writeCancel(id));
    }
  }

  /**
   * The trace context a call carries on the wire: only to a peer that reads it, and only a well-formed one. The
   * strings are read once (a carrier may compute them on each read).
   */
  private wireTrace(envelope: Envelope): WireTraceContext | undefined {
    const carrier = envelope.traceContext;
    if (carrier === undefined || (this.peerFeatures & FEATURE_TRACE_CONTEXT) === 0) return undefined;
    const trace: WireTraceContext = { traceparent: carrier.traceparent, tracestate: carrier.tracestate };
    return isWireTraceContext(trace) ? trace : undefined;
  }

  /**
   * The frame of an ask or a tell, its header left for `writeAsk`/`writeTell`.
   * @throws RpcException when an argument cannot be serialized or the frame is larger than the peer accepts
   */
  private encodeCall(
    kind: typeof FrameKind.ASK | typeof FrameKind.TELL,
    envelope: Envelope,
    method: MethodInfo,
    trace: WireTraceContext | undefined,
  ): Buffer {
    let frame: Buffer;
    try {
      frame = encodeFrame(
        this.ctx.codec,
        kind,
        envelope.fenced ? [envelope.token, envelope.args] : envelope.args,
        traceContextSize(trace),
      );
    } catch (error) {
      throw serializationFailure(method, error, envelope.fenced);
    }
    const size = frameSize(frame);
    if (size > this.sendLimit) throw requestTooLarge(method.qualifiedName, size, this.sendLimit);
    return frame;
  }

  /** Forgets a request whose answer is no longer awaited. */
  forgetRequest(requestId: number): void {
    this.requests.take(requestId);
  }

  /** Number of asks and handshakes awaiting an answer. */
  get pendingRequests(): number {
    return this.requests.size;
  }

  /** The route number of a method of an endpoint, declared to the peer on first use; -1 when the table is full. */
  route(system: string, endpointId: string, method: MethodInfo): number {
    const key = `${system}\u0000${endpointId}\u0000${method.gateway}\u0000${method.name}`;
    let id = this.routes.get(key);
    if (id !== undefined) return id;
    id = this.routes.size;
    if (id >= MAX_ROUTES) return -1;
    const frame = encodeFrame(this.ctx.codec, FrameKind.DECLARE, [system, endpointId, method.gateway, method.name]);
    this.routes.set(key, id);
    this.writer.push(writeDeclare(frame, id));
    return id;
  }

  /** Sends an ask; every failure goes to the ask, nothing is thrown. */
  ask(ask: RemoteAsk, route: number): void {
    const method = ask.method!;
    if (this.closed) {
      ask.fail(recipientUnreachable(`ask ${method.qualifiedName}`, ask.recipient, this.closeReason));
      return;
    }
    const trace = ask.traceContext === undefined ? undefined : this.wireTrace(ask);
    let frame: Buffer;
    try {
      frame = this.encodeCall(FrameKind.ASK, ask, method, trace);
    } catch (error) {
      ask.fail(error);
      return;
    }
    writeAsk(frame, this.requests.add(ask), route, ask.fenced, trace);
    // The arguments are on the wire now; do not keep (possibly large) values alive until the answer.
    ask.args = null;
    ask.owner = this;
    this.writer.push(frame);
  }

  /**
   * Sends a tell.
   * @throws RpcException when an argument cannot be serialized or the message is too large (as Flink's proxy does)
   */
  tell(envelope: Envelope, route: number): void {
    const method = envelope.method!;
    const trace = envelope.traceContext === undefined ? undefined : this.wireTrace(envelope);
    const frame = this.encodeCall(FrameKind.TELL, envelope, method, trace);
    if (this.closed) {
      this.log.debug(
        { remote: this.remote, method: method.qualifiedName },
        'Dropping a tell: the connection is closed.',
      );
      return;
    }
    writeTell(frame, route, envelope.fenced, trace);
    if (!this.established) this.queuedTells++;
    this.writer.push(frame);
  }

  /** Asks the peer whether `endpointId` exists and serves `gateway`; resolves with the handshake status. */
  handshake(
    system: string,
    endpointId: string,
    gateway: string,
    recipient: string,
    timeoutMs: number,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(this.closeReason);
        return;
      }
      const call = new HandshakeCall(this, recipient, resolve, reject, timeoutMs);
      const frame = encodeFrame(this.ctx.codec, FrameKind.HANDSHAKE, [system, endpointId, gateway]);
      this.writer.push(writeHandshake(frame, this.requests.add(call)));
    });
  }

  // ---- closing ----------------------------------------------------------------------------------------------------

  protected onClose(reason: unknown): void {
    clearTimeout(this.connectTimer);
    if (!this.established) this.rejectReady(reason);
    const calls = this.requests.drain();
    if (calls.length > 0 || this.queuedTells > 0) {
      this.log.warn(
        { remote: this.remote, asks: calls.length, tells: this.queuedTells, reason: describeCause(reason) },
        `The RPC connection to ${this.remote} is gone: failing ${calls.length} pending calls` +
          (this.queuedTells > 0 ? `, dropping ${this.queuedTells} unsent tells.` : '.'),
      );
    }
    for (const call of calls) {
      call.owner = null;
      call.fail(
        call.method === null
          ? reason
          : recipientUnreachable(`ask ${call.method.qualifiedName}`, call.recipient, reason),
      );
    }
  }
}

/** Where the target gets connections from (the transport's pool). */
export interface ConnectionPool {
  /** The open (or opening) connection to the peer service `key`, dialled if there is none; null once closed. */
  connectionTo(key: string, host: string, port: number): ClientConnection | null;
}

/**
 * `RemoteTarget`: what a gateway proxy to a remote endpoint delivers to. It is bound to the peer service, not to one socket: each
 * call takes the peer's current connection from the pool, so after the connection died the next call dials again
 * and a gateway keeps working once the peer is back at the same address.
 */
export class RemoteTarget implements RpcTarget {
  readonly inProcess = false;
  private connection: ClientConnection | null = null;
  /** Route numbers of this endpoint's methods on `connection` (they are per connection). */
  private readonly routes = new Map<MethodInfo, number>();
  /** The last method called and its route: most gateways call one method in a row (no map lookup then). */
  private lastMethod: MethodInfo | null = null;
  private lastRoute = -1;

  constructor(
    readonly address: string,
    readonly hostname: string,
    private readonly pool: ConnectionPool,
    private readonly key: string,
    private readonly port: number,
    private readonly system: string,
    private readonly endpointId: string,
  ) {}

  deliver(envelope: Envelope): void {
    let connection = this.connection;
    if (connection === null || connection.closed) {
      connection = this.pool.connectionTo(this.key, this.hostname, this.port);
      if (connection === null) {
        const error = recipientUnreachable(envelope.describe(), this.address, serviceClosed());
        if (envelope.kind === MESSAGE_ASK) (envelope as RemoteAsk).fail(error);
        return;
      }
      this.connection = connection;
      this.routes.clear();
      this.lastMethod = null;
    }
    const method = envelope.method!;
    let route = method === this.lastMethod ? this.lastRoute : this.routes.get(method);
    if (route === undefined) {
      route = connection.route(this.system, this.endpointId, method);
      if (route < 0) {
        const error = new RpcException(
          `Cannot call ${method.qualifiedName} on ${this.address}: too many distinct remote methods on one connection.`,
        );
        if (envelope.kind === MESSAGE_ASK) (envelope as RemoteAsk).fail(error);
        else throw error;
        return;
      }
      this.routes.set(method, route);
    }
    this.lastMethod = method;
    this.lastRoute = route;
    if (envelope.kind === MESSAGE_ASK) connection.ask(envelope as RemoteAsk, route);
    else connection.tell(envelope, route);
  }

  toString(): string {
    return `RemoteTarget(${this.address})`;
  }
}

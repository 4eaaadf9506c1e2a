/**
 * The outbound connection of a service to one remote service: every gateway this service holds to endpoints of that
 * service sends its calls over it. It keeps the table of requests awaiting an answer (asks and handshakes) and the
 * routes it declared (endpoint + gateway + method, sent once as a DECLARE and then named by number in every call).
 */

import type { Socket } from 'node:net';
import { argumentSerializationMessage, SerializationError } from '../codec/errors.js';
import type { Envelope } from '../rpc/actor/messages.js';
import type { AskOwner, PendingAsk } from '../rpc/actor/PendingAsk.js';
import {
  describeCause,
  RpcConnectionException,
  RpcException,
  RpcTimeoutException,
  recipientUnreachable,
  requestTooLarge,
  versionMismatch,
} from '../rpc/errors.js';
import type { MethodInfo } from '../rpc/gateway.js';
import { Connection, type ConnectionContext } from './Connection.js';
import {
  ASK,
  DECLARE,
  ERROR,
  FLAG_FENCED,
  HANDSHAKE,
  HEADER_SIZE,
  KIND_NAMES,
  LENGTH_SIZE,
  MAX_ROUTES,
  MIN_PEER_FRAME_SIZE,
  PROTOCOL_VERSION,
  putU32,
  REPLY,
  TELL,
} from './protocol.js';
import { RequestTable } from './RequestTable.js';

/** A request in the table: a `PendingAsk` of a proxy, or a handshake of `connect`. */
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
  private readonly routes = new Map<string, number>();
  private readonly connectTimer: NodeJS.Timeout;
  /** Tells queued before the connection was up (logged if they are dropped). */
  private queuedTells = 0;

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

  onPreamble(version: number, peerMaxFrameSize: number): boolean {
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
    if (peerMaxFrameSize < this.sendLimit) {
      this.sendLimit = peerMaxFrameSize;
      // Calls queued while connecting were checked against our own limit only.
      if (this.writer.pending() > 0) this.writer.filter((frame) => this.fitsPeer(frame));
    }
    this.established = true;
    this.queuedTells = 0;
    this.writer.release();
    this.resolveReady();
    return true;
  }

  protected handleFrame(kind: number, buf: Buffer, start: number, end: number): void {
    if (kind !== REPLY && kind !== ERROR) {
      this.violation(`a ${KIND_NAMES[kind]} frame, which only clients send`);
      return;
    }
    const call = this.requests.take(buf.readUInt32BE(start + 1));
    // Unknown: the ask timed out (or was never made); its late answer is dropped.
    if (call === undefined) return;
    call.owner = null;
    let value: unknown;
    try {
      value = this.ctx.codec.decode(buf, start + 5, end);
    } catch (error) {
      const what = call.method === null ? 'handshake' : `RPC method ${call.method.qualifiedName}`;
      call.fail(
        new RpcException(`Could not deserialize the ${kind === REPLY ? 'result' : 'error'} of ${what}.`, {
          cause: error,
        }),
      );
      return;
    }
    if (kind === REPLY) call.succeed(value);
    else call.fail(value);
  }

  /** True when a queued frame fits the peer's limit; otherwise fails its ask (or drops its tell) and returns false. */
  private fitsPeer(frame: Buffer): boolean {
    const size = frame.length - LENGTH_SIZE;
    if (size <= this.sendLimit) return true;
    const kind = frame[4];
    if (kind === ASK) {
      const call = this.requests.take(frame.readUInt32BE(5));
      if (call !== null && call !== undefined) {
        call.owner = null;
        const method = call.method?.qualifiedName ?? 'unknown';
        call.fail(requestTooLarge(method, size, this.sendLimit));
      }
    } else {
      this.log.warn(
        { remote: this.remote, size, max: this.sendLimit },
        `Dropping a queued ${KIND_NAMES[kind ?? 0]} of ${size} bytes: ${this.remote} accepts at most ${this.sendLimit}.`,
      );
    }
    return false;
  }

  protected checkOpening(): void {
    // The connect timer covers the opening of an outbound connection.
  }

  // ---- outbound ---------------------------------------------------------------------------------------------------

  /** `AskOwner`: an ask settled elsewhere (timeout, service shutdown); its answer will be dropped. */
  onAskSettled(ask: PendingAsk): void {
    this.requests.take(ask.requestId);
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
    const frame = this.ctx.codec.encode([system, endpointId, method.gateway, method.name], HEADER_SIZE[DECLARE]!);
    this.routes.set(key, id);
    frame.writeUInt32BE(frame.length - LENGTH_SIZE, 0);
    frame[4] = DECLARE;
    frame.writeUInt32BE(id, 5);
    this.writer.push(frame);
    return id;
  }

  /** Sends an ask; every failure goes to the ask, nothing is thrown. */
  ask(ask: PendingAsk, route: number): void {
    const method = ask.method!;
    if (this.closed) {
      ask.fail(recipientUnreachable(`ask ${method.qualifiedName}`, ask.recipient, this.closeReason));
      return;
    }
    let frame: Buffer;
    try {
      frame = this.ctx.codec.encode(ask.fenced ? [ask.token, ask.args] : ask.args, HEADER_SIZE[ASK]!);
    } catch (error) {
      ask.fail(serializationFailure(method, error, ask.fenced));
      return;
    }
    const size = frame.length - LENGTH_SIZE;
    if (size > this.sendLimit) {
      ask.fail(requestTooLarge(method.qualifiedName, size, this.sendLimit));
      return;
    }
    const id = this.requests.add(ask);
    putU32(frame, size, 0);
    frame[4] = ASK;
    putU32(frame, id, 5);
    putU32(frame, route, 9);
    frame[13] = ask.fenced ? FLAG_FENCED : 0;
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
    let frame: Buffer;
    try {
      frame = this.ctx.codec.encode(
        envelope.fenced ? [envelope.token, envelope.args] : envelope.args,
        HEADER_SIZE[TELL]!,
      );
    } catch (error) {
      throw serializationFailure(method, error, envelope.fenced);
    }
    const size = frame.length - LENGTH_SIZE;
    if (size > this.sendLimit) throw requestTooLarge(method.qualifiedName, size, this.sendLimit);
    if (this.closed) {
      this.log.debug(
        { remote: this.remote, method: method.qualifiedName },
        'Dropping a tell: the connection is closed.',
      );
      return;
    }
    putU32(frame, size, 0);
    frame[4] = TELL;
    putU32(frame, route, 5);
    frame[9] = envelope.fenced ? FLAG_FENCED : 0;
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
      const frame = this.ctx.codec.encode([system, endpointId, gateway], HEADER_SIZE[HANDSHAKE]!);
      const id = this.requests.add(call);
      putU32(frame, frame.length - LENGTH_SIZE, 0);
      frame[4] = HANDSHAKE;
      putU32(frame, id, 5);
      this.writer.push(frame);
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

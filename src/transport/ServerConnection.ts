/**
 * An inbound connection: a remote service calls endpoints of this one. Every frame is checked (kind, fields,
 * payload shape) before it reaches an endpoint, and a call is delivered only if the endpoint's declared gateways
 * have the method (`servedMethod`), whatever the peer claims. Lifecycle and fencing are then the
 * endpoint's business, as for local calls; the answer comes back through an {@link InboundAsk}.
 */

import type { EndpointServer } from '../rpc/actor/EndpointServer.js';
import { Envelope, MESSAGE_ASK, MESSAGE_TELL, type ReplySink } from '../rpc/actor/messages.js';
import { describeCause, methodRefused, RpcException, recipientUnreachable, resultTooLarge } from '../rpc/errors.js';
import type { MethodInfo } from '../rpc/gateway.js';
import { servedGateway, servedMethod } from '../rpc/servedGateways.js';
import { Connection } from './Connection.js';
import {
  encodeFrame,
  FRAME_NAMES,
  FrameFields,
  FrameKind,
  frameSize,
  HANDSHAKE_GATEWAY_NOT_SERVED,
  HANDSHAKE_OK,
  HANDSHAKE_UNKNOWN_ENDPOINT,
  HANDSHAKE_UNKNOWN_SYSTEM,
  MAX_NAME_LENGTH,
  MAX_ROUTES,
  MIN_PEER_FRAME_SIZE,
  PENDING_ASK_OVERHEAD,
  PROTOCOL_VERSION,
  readAsk,
  readCancel,
  readDeclare,
  readHandshake,
  readTell,
  writeError,
  writeReply,
} from './frames.js';

/** A declared route: which method of which endpoint a route number names, and what it resolved to. */
class Route {
  /** The endpoint server the method was looked up on (re-checked on every call: endpoints come and go). */
  server: EndpointServer | undefined = undefined;
  info: MethodInfo | undefined = undefined;
  constructor(
    readonly foreign: boolean,
    readonly endpointId: string,
    readonly gateway: string,
    readonly method: string,
  ) {}
}

/**
 * The reply side of an ask that came over the network: answers travel back on the connection it came from. An ask
 * of a method with a `signalArg` also carries the controller of the signal its method receives, aborted when the
 * caller cancels (a CANCEL frame) or its connection closes.
 */
export class InboundAsk extends Envelope implements ReplySink {
  private done = false;
  /** Set for methods with a `signalArg`. */
  controller: AbortController | null = null;
  /** The caller cancelled: it forgot the request, so the answer is not sent. */
  cancelled = false;

  constructor(
    method: MethodInfo,
    args: unknown[],
    token: unknown,
    fenced: boolean,
    private readonly connection: ServerConnection,
    readonly requestId: number,
    /** What the ask counts against the connection's memory budget until it is answered. */
    readonly cost: number,
  ) {
    super(MESSAGE_ASK, method, args, null, token, fenced, null);
    this.reply = this;
  }

  /** The signal the endpoint's method receives at its `signalArg` (undefined for other methods). */
  get signal(): AbortSignal | undefined {
    return this.controller?.signal;
  }

  succeed(value: unknown): void {
    if (this.done) return;
    this.done = true;
    this.args = null;
    this.connection.answered(this);
    if (!this.cancelled) this.connection.sendResult(this.requestId, this.method!, value);
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.args = null;
    this.connection.answered(this);
    if (!this.cancelled) this.connection.sendError(this.requestId, error);
  }

  /** Aborts the method's signal (once). */
  abort(reason: unknown): void {
    const controller = this.controller;
    if (controller !== null && !controller.signal.aborted) controller.abort(reason);
  }
}

/** A plain copy of an error that the codec could not serialize: name, message, stack and the cause chain. */
function plainError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return typeof error === 'string' ? error : String(error);
  const copy = new Error(error.message);
  copy.name = error.name;
  copy.stack = error.stack;
  if (error.cause !== undefined && depth < 8) copy.cause = plainError(error.cause, depth + 1);
  return copy;
}

const NO_ARGS: unknown[] = [];

/**
 * The reason a cancelled inbound call's signal carries, as `fetch` would: an `AbortError`. Without a stack: it would
 * only show the socket's data handler, and capturing it is most of the cost of a cancel.
 */
function abortError(message: string): DOMException {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new DOMException(message, 'AbortError');
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** `Name: message` of anything thrown, at most 4 KiB, whatever its getters do. */
function summarize(error: unknown): string {
  try {
    const text = error instanceof Error ? `${String(error.name)}: ${String(error.message)}` : String(error);
    return text.slice(0, 4096);
  } catch {
    return 'The remote call failed with an error that cannot be described.';
  }
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH;
}

export class ServerConnection extends Connection {
  private readonly routes: Route[] = [];
  /** The fields of the frame being read (reused). */
  private readonly fields = new FrameFields();
  /** Estimated bytes held by the asks delivered to endpoints and not answered yet. */
  private pendingBytes = 0;
  /** Set while asks are being refused for the memory budget (one warning per episode, not one per ask). */
  private overBudget = false;
  /** Pending asks whose method takes a signal, by request id: what a CANCEL aborts. */
  private readonly cancellable = new Map<number, InboundAsk>();
  /** Asks delivered to endpoints and not answered yet. */
  pendingAsks = 0;

  /** Pending asks whose method takes a signal. */
  get cancellableAsks(): number {
    return this.cancellable.size;
  }

  // ---- opening ----------------------------------------------------------------------------------------------------

  onPreamble(version: number, peerMaxFrameSize: number, features: number): boolean {
    if (version !== PROTOCOL_VERSION) {
      this.log.warn(
        { remote: this.remote, version },
        `Refusing the RPC connection from ${this.remote}: it speaks protocol version ${version}, this service ` +
          `${PROTOCOL_VERSION}.`,
      );
      this.countRejected('version_mismatch');
      // Graceful: our preamble (already queued) tells the peer which version we speak.
      this.close(new Error(`protocol version ${version} of ${this.remote} is not supported`), true);
      return false;
    }
    if (peerMaxFrameSize < MIN_PEER_FRAME_SIZE) {
      this.violation(`a maximum frame size of ${peerMaxFrameSize} bytes in its preamble`);
      return false;
    }
    this.sendLimit = Math.min(this.sendLimit, peerMaxFrameSize);
    this.markEstablished(features);
    return true;
  }

  protected checkOpening(quietMs: number): void {
    const timeout = this.ctx.config.handshakeTimeout;
    if (quietMs >= timeout) {
      this.log.warn(
        { remote: this.remote, handshakeTimeout: timeout },
        `Closing the RPC connection from ${this.remote}: no preamble within the handshake timeout of ${timeout} ms.`,
      );
      this.close(new Error(`no preamble from ${this.remote} within ${timeout} ms`));
    }
  }

  // ---- frames -----------------------------------------------------------------------------------------------------

  protected handleFrame(kind: number, buf: Buffer, start: number, end: number): void {
    switch (kind) {
      case FrameKind.ASK:
        this.onAsk(buf, start, end);
        return;
      case FrameKind.TELL:
        this.onTell(buf, start, end);
        return;
      case FrameKind.DECLARE:
        this.onDeclare(buf, start, end);
        return;
      case FrameKind.HANDSHAKE:
        this.onHandshake(buf, start, end);
        return;
      case FrameKind.CANCEL:
        this.onCancel(buf, start);
        return;
      default:
        this.violation(`a ${FRAME_NAMES[kind]} frame, which only servers send`);
    }
  }

  private onHandshake(buf: Buffer, start: number, end: number): void {
    const fields = this.fields;
    readHandshake(buf, start, fields);
    const id = fields.requestId;
    const payload = this.decodeControl(buf, fields.payloadStart, end, 3);
    if (payload === undefined) return;
    const [system, endpointId, gateway] = payload;
    let status = HANDSHAKE_OK;
    if (system !== this.ctx.systemName) {
      status = HANDSHAKE_UNKNOWN_SYSTEM;
    } else {
      const server = this.ctx.host.lookupServer(endpointId!);
      if (server === undefined) status = HANDSHAKE_UNKNOWN_ENDPOINT;
      else if (servedGateway(server.endpoint, gateway!) === undefined) status = HANDSHAKE_GATEWAY_NOT_SERVED;
    }
    this.writer.push(writeReply(encodeFrame(this.ctx.codec, FrameKind.REPLY, status), id));
  }

  private onDeclare(buf: Buffer, start: number, end: number): void {
    const fields = this.fields;
    readDeclare(buf, start, fields);
    const id = fields.routeId;
    if (id !== this.routes.length || id >= MAX_ROUTES) {
      this.violation(`a DECLARE of route ${id} where route ${this.routes.length} was next (at most ${MAX_ROUTES})`);
      return;
    }
    const payload = this.decodeControl(buf, fields.payloadStart, end, 4);
    if (payload === undefined) return;
    const [system, endpointId, gateway, method] = payload as [string, string, string, string];
    const foreign = system !== this.ctx.systemName;
    this.routes.push(new Route(foreign, endpointId, gateway, method));
  }

  /** Decodes the payload of a control frame: an array of `count` short non-empty strings, or a protocol violation. */
  private decodeControl(buf: Buffer, start: number, end: number, count: number): string[] | undefined {
    let value: unknown;
    try {
      value = this.ctx.codec.decode(buf, start, end);
    } catch {
      value = undefined;
    }
    if (!Array.isArray(value) || value.length !== count || !value.every(isName)) {
      this.violation(`a malformed ${count === 3 ? 'HANDSHAKE' : 'DECLARE'} payload`);
      return undefined;
    }
    return value as string[];
  }

  /** The address a route names, for error messages (not kept per route: routes are many, errors rare). */
  private addressOf(route: Route): string {
    return this.ctx.addressPrefix + route.endpointId;
  }

  /** The route of a call, or a protocol violation. */
  private routeOf(id: number): Route | undefined {
    const route = this.routes[id];
    if (route === undefined) this.violation(`a call on undeclared route ${id}`);
    return route;
  }

  /** The live endpoint behind a route, refreshing the method lookup when the endpoint changed. */
  private resolve(route: Route): EndpointServer | undefined {
    if (route.foreign) return undefined;
    const server = this.ctx.host.lookupServer(route.endpointId);
    if (server !== route.server) {
      route.server = server;
      route.info = server === undefined ? undefined : servedMethod(server.endpoint, route.gateway, route.method);
    }
    return server;
  }

  /** The arguments and token of the call being decoded (fields, so that decoding allocates no result object). */
  private callArgs: unknown[] = NO_ARGS;
  private callToken: unknown;

  /**
   * Decodes the arguments (and, for a fenced call, the token) of a call into `callArgs`/`callToken`. Returns null,
   * or why the payload is not acceptable (undecodable, or not `args` / `[token, args]`).
   */
  private decodeCall(buf: Buffer, start: number, end: number, fenced: boolean, method: MethodInfo): string | null {
    let value: unknown;
    try {
      value = this.ctx.codec.decode(buf, start, end);
    } catch (error) {
      return `Could not deserialize the arguments of method ${method.qualifiedName}: ${(error as Error).message}`;
    }
    if (fenced) {
      if (!Array.isArray(value) || value.length !== 2 || !Array.isArray(value[1])) {
        return `Malformed fenced arguments of method ${method.qualifiedName}.`;
      }
      this.callToken = value[0];
      this.callArgs = value[1] as unknown[];
    } else {
      if (!Array.isArray(value)) return `Malformed arguments of method ${method.qualifiedName}.`;
      this.callToken = undefined;
      this.callArgs = value;
    }
    return null;
  }

  /** Drops the references to the last call's values (a large argument must not outlive its call here). */
  private forgetCall(): void {
    this.callArgs = NO_ARGS;
    this.callToken = undefined;
  }

  private onAsk(buf: Buffer, start: number, end: number): void {
    const fields = this.fields;
    if (!readAsk(buf, start, fields, end)) {
      this.violation('an ASK whose trace context runs past the frame');
      return;
    }
    const id = fields.requestId;
    const route = this.routeOf(fields.routeId);
    if (route === undefined) return;
    const fenced = fields.fenced;
    const server = this.resolve(route);
    if (server === undefined) {
      this.countRejected('unknown_endpoint');
      this.sendError(id, recipientUnreachable(`ask ${route.gateway}.${route.method}`, this.addressOf(route)));
      return;
    }
    const info = route.info;
    if (info === undefined) {
      this.countRejected('method_refused');
      this.sendError(id, methodRefused(route.gateway, route.method, this.addressOf(route)));
      return;
    }
    // Checked before decoding: a refused ask costs no more than its frame.
    const cost = PENDING_ASK_OVERHEAD + 2 * (end - fields.payloadStart);
    if (this.pendingBytes + cost > this.ctx.config.connectionMemoryBudget) {
      this.refuseOverBudget(id, info, route, cost);
      return;
    }
    this.overBudget = false;
    const problem = this.decodeCall(buf, fields.payloadStart, end, fenced, info);
    if (problem !== null) {
      this.countRejected('malformed');
      this.sendError(id, new RpcException(problem));
      return;
    }
    const ask = new InboundAsk(info, this.callArgs, this.callToken, fenced, this, id, cost);
    this.forgetCall();
    if (fields.trace !== undefined) ask.traceContext = fields.trace;
    if (info.signalArg !== undefined) {
      ask.controller = new AbortController();
      this.cancellable.set(id, ask);
    }
    this.pendingBytes += cost;
    this.pendingAsks++;
    server.deliver(ask);
  }

  /** The caller gave up on an ask: its method's signal is aborted and its answer will not be sent. */
  private onCancel(buf: Buffer, start: number): void {
    readCancel(buf, start, this.fields);
    const ask = this.cancellable.get(this.fields.requestId);
    // Unknown: answered already (the answer crossed the CANCEL), or a method without a signal.
    if (ask === undefined) return;
    this.cancellable.delete(ask.requestId);
    ask.cancelled = true;
    ask.abort(abortError('The caller aborted the call.'));
  }

  private onTell(buf: Buffer, start: number, end: number): void {
    const fields = this.fields;
    if (!readTell(buf, start, fields, end)) {
      this.violation('a TELL whose trace context runs past the frame');
      return;
    }
    const route = this.routeOf(fields.routeId);
    if (route === undefined) return;
    const fenced = fields.fenced;
    const server = this.resolve(route);
    const info = route.info;
    if (server === undefined || info === undefined) {
      this.countRejected(server === undefined ? 'unknown_endpoint' : 'method_refused');
      const error =
        server === undefined
          ? recipientUnreachable(`tell ${route.gateway}.${route.method}`, this.addressOf(route))
          : methodRefused(route.gateway, route.method, this.addressOf(route));
      this.log.debug({ remote: this.remote, err: error }, 'Dropping a fire-and-forget message.');
      return;
    }
    const problem = this.decodeCall(buf, fields.payloadStart, end, fenced, info);
    if (problem !== null) {
      this.countRejected('malformed');
      this.log.warn({ remote: this.remote, reason: problem }, 'Dropping a fire-and-forget message.');
      return;
    }
    const tell = new Envelope(MESSAGE_TELL, info, this.callArgs, null, this.callToken, fenced, null);
    this.forgetCall();
    if (fields.trace !== undefined) tell.traceContext = fields.trace;
    server.deliver(tell);
  }

  // ---- answers ----------------------------------------------------------------------------------------------------

  /**
   * Refuses an ask that would take the connection past its memory budget. The peer's other frames (pings,
   * handshakes, declarations, tells, asks that fit again once some are answered) are still read and served: a
   * backlog of legitimate long-pending calls never makes a healthy peer look dead.
   */
  private refuseOverBudget(id: number, info: MethodInfo, route: Route, cost: number): void {
    const budget = this.ctx.config.connectionMemoryBudget;
    this.countRejected('over_budget');
    if (!this.overBudget) {
      this.overBudget = true;
      this.log.warn(
        { remote: this.remote, pendingBytes: this.pendingBytes, budget },
        `Refusing asks from ${this.remote}: its pending asks hold about ${this.pendingBytes} bytes, the memory ` +
          `budget of a connection is ${budget} bytes (connectionMemoryBudget).`,
      );
    }
    this.sendError(
      id,
      new RpcException(
        `Refused the ask ${info.qualifiedName} on ${this.addressOf(route)}: the asks pending on this connection ` +
          `hold about ${this.pendingBytes} bytes, and this one (about ${cost} bytes) would exceed the memory budget ` +
          `of ${budget} bytes per connection (RpcConfig.connectionMemoryBudget).`,
      ),
    );
  }

  /** An ask of this connection was answered (or failed): its bytes leave the budget. */
  answered(ask: InboundAsk): void {
    this.pendingBytes -= ask.cost;
    this.pendingAsks--;
    if (ask.controller !== null) this.cancellable.delete(ask.requestId);
  }

  /** Sends the result of an ask, or the reason it cannot be sent. */
  sendResult(id: number, method: MethodInfo, value: unknown): void {
    if (this.closed) return;
    let frame: Buffer;
    try {
      frame = encodeFrame(this.ctx.codec, FrameKind.REPLY, value);
    } catch (error) {
      this.sendError(
        id,
        new RpcException(`Failed to serialize the result for RPC call : ${method.qualifiedName}.`, { cause: error }),
      );
      return;
    }
    const size = frameSize(frame);
    if (size > this.sendLimit) {
      this.sendError(id, resultTooLarge(method.qualifiedName, size, this.sendLimit));
      return;
    }
    this.writer.push(writeReply(frame, id));
  }

  /** Sends the failure of an ask. An error the codec cannot carry goes as a plain copy (name, message, stack). */
  sendError(id: number, error: unknown): void {
    if (this.closed) return;
    let frame = this.encodeError(error);
    if (frame === null || frameSize(frame) > this.sendLimit) {
      // Not encodable even as a plain copy, or giant (a huge message or stack): keep what identifies it.
      frame = encodeFrame(this.ctx.codec, FrameKind.ERROR, new RpcException(summarize(error)));
    }
    this.writer.push(writeError(frame, id));
  }

  /** The error as the codec encodes it, else as a plain copy, else null. Never throws (it runs in reply paths). */
  private encodeError(error: unknown): Buffer | null {
    try {
      return encodeFrame(this.ctx.codec, FrameKind.ERROR, error);
    } catch {
      try {
        return encodeFrame(this.ctx.codec, FrameKind.ERROR, plainError(error));
      } catch {
        return null;
      }
    }
  }

  protected onClose(reason: unknown): void {
    this.routes.length = 0;
    // The callers are gone: methods waiting on a signal learn it at once.
    const asks = [...this.cancellable.values()];
    this.cancellable.clear();
    for (const ask of asks) {
      ask.cancelled = true;
      ask.abort(abortError(`The connection of the caller closed: ${describeCause(reason)}`));
    }
  }
}

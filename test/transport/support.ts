/** Helpers of the remote specifications: services that clean up after themselves, peer processes, raw sockets. */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Logger, RpcConfig, RpcService } from '../../src/index.js';
import { RpcSystem } from '../../src/index.js';
import {
  createFrameCodec,
  HEADER_SIZE,
  LENGTH_SIZE,
  MAGIC,
  PREAMBLE_SIZE,
  PROTOCOL_VERSION,
} from '../../src/transport/frames.js';
import type { TransportStats } from '../../src/transport/TcpTransport.js';

const services = new Set<RpcService>();
/** Every port a service of this module bound: checked free again by {@link assertNoLeaks}. */
const boundPorts = new Set<number>();
const peers = new Set<ChildProcess>();
const sockets = new Set<Socket>();
const servers = new Set<Server>();

/** A remote service on 127.0.0.1, closed by {@link cleanup}. */
export async function remoteService(config: RpcConfig = {}, portRange = '0'): Promise<RpcService> {
  const service = await RpcSystem.load()
    .remoteServiceBuilder({ logger: quietLogger(), ...config }, '127.0.0.1', portRange)
    .withBindAddress('127.0.0.1')
    .createAndStart();
  services.add(service);
  boundPorts.add(service.getPort());
  return service;
}

/** Fails when a peer process is still alive or a port bound by a service of this module is still taken. */
export async function assertNoLeaks(): Promise<void> {
  if (livePeers() > 0) throw new Error(`${livePeers()} peer processes are still alive`);
  for (const port of boundPorts) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', () => reject(new Error(`port ${port} is still bound`)));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
    });
  }
  boundPorts.clear();
}

/** Closes every service, kills every peer, destroys every raw socket and server made through this module. */
export async function cleanup(): Promise<void> {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  for (const server of servers) server.close();
  servers.clear();
  const closing = [...services].map((s) => s.closeAsync().catch(() => {}));
  services.clear();
  for (const child of peers) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  const exits = [...peers].map((child) =>
    child.exitCode === null && child.signalCode === null ? once(child, 'exit') : Promise.resolve(),
  );
  peers.clear();
  await Promise.all([...closing, ...exits]);
}

/** Children still alive (for the no-leak check). */
export function livePeers(): number {
  return [...peers].filter((c) => c.exitCode === null && c.signalCode === null).length;
}

export interface PeerInfo {
  port: number;
  values: string;
  leader: string;
  idle: string;
}

/** A peer process (test/transport/fixtures/peer.ts). */
export interface Peer {
  readonly info: PeerInfo;
  readonly child: ChildProcess;
  /** SIGKILLs the process and waits for its exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const PEER = fileURLToPath(new URL('./fixtures/peer.ts', import.meta.url));

/** Spawns a peer service process and waits for its address line. */
export async function spawnPeer(portRange = '0', config: RpcConfig = {}): Promise<Peer> {
  const child = spawn(process.execPath, ['--import', 'tsx', PEER, portRange, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, FLINK_RPC_LOG_LEVEL: 'error' },
  });
  peers.add(child);
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`peer exited with ${code} before it was ready`)));
  });
  const info = JSON.parse(line) as PeerInfo & { error?: string };
  if (info.error !== undefined) throw new Error(info.error);
  return {
    info,
    child,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}

/** A fixture process that talks in JSON lines: one per `request`, its first one when ready. */
export interface LinePeer {
  readonly child: ChildProcess;
  /** The next line the process prints (its first: the ready line). */
  nextLine(timeoutMs?: number): Promise<string>;
  /** Writes a line to the process's stdin. */
  send(line: string): void;
}

/** Spawns `test/transport/fixtures/<name>` (killed by {@link cleanup}, and exiting when its stdin closes). */
export function spawnFixture(name: string, args: string[] = []): LinePeer {
  const script = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, FLINK_RPC_LOG_LEVEL: 'error' },
  });
  peers.add(child);
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
    }
    for (const wake of waiters.splice(0)) wake();
  });
  child.once('exit', () => {
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    child,
    send: (line) => child.stdin!.write(`${line}\n`),
    nextLine: async (timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (lines.length === 0) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited`);
        if (Date.now() > deadline) throw new Error(`${name} printed nothing within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return lines.shift()!;
    },
  };
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A plain TCP server on 127.0.0.1 that accepts and does whatever `onSocket` does; closed by cleanup. */
export async function rawServer(onSocket: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

// ---- logs -------------------------------------------------------------------------------------------------------

export interface LogEntry {
  level: string;
  obj: unknown;
  msg: string | undefined;
}

/** A logger that records what it is told. */
export function captureLogger(entries: LogEntry[] = []): Logger & { entries: LogEntry[] } {
  const log = (level: string) => (obj: unknown, msg?: string) => {
    entries.push({ level, obj, msg });
  };
  const logger = {
    entries,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
  };
  return logger;
}

/** A logger that drops everything (tests provoke warnings on purpose). */
export function quietLogger(): Logger {
  return captureLogger([]);
}

// ---- raw protocol -----------------------------------------------------------------------------------------------

export const codec = createFrameCodec();

/** The preamble bytes. */
export function preambleBytes(version = PROTOCOL_VERSION, maxFrameSize = 10_485_760): Buffer {
  const out = Buffer.alloc(PREAMBLE_SIZE);
  out.writeUInt32BE(MAGIC, 0);
  out.writeUInt16BE(version, 4);
  out.writeUInt32BE(maxFrameSize, 8);
  return out;
}

/** One frame: kind, its u32 fields (and flags for ASK/TELL), and a payload value (encoded) or raw bytes. */
export function frameBytes(
  kind: number,
  fields: number[],
  payload?: unknown,
  options: { raw?: Buffer; flags?: number } = {},
): Buffer {
  const body = options.raw ?? (payload === undefined ? Buffer.alloc(0) : Buffer.from(codec.encode(payload, 0)));
  const header = HEADER_SIZE[kind] ?? 5;
  const out = Buffer.alloc(header + body.length);
  out.writeUInt32BE(header - LENGTH_SIZE + body.length, 0);
  out[4] = kind;
  let p = 5;
  for (const field of fields) {
    out.writeUInt32BE(field, p);
    p += 4;
  }
  if (p < header) out[p] = options.flags ?? 0;
  body.copy(out, header);
  return out;
}

/** A frame as a hand-made server received it: its kind and the bytes after its length prefix. */
export interface ReceivedFrame {
  kind: number;
  body: Buffer;
}

/**
 * A hand-made server that sends a preamble announcing `features`, answers every HANDSHAKE with status 0 (and every
 * ASK with `answer(frame)` when given), and records the frames it receives. Closed by {@link cleanup}.
 */
export async function rawProtocolServer(
  features: number,
  received: ReceivedFrame[],
  answer?: (frame: ReceivedFrame) => Buffer | undefined,
): Promise<number> {
  return rawServer((socket) => {
    const preamble = preambleBytes();
    preamble.writeUInt16BE(features, 6);
    socket.write(preamble);
    let data = Buffer.alloc(0);
    let preambleRead = false;
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (!preambleRead) {
        if (data.length < PREAMBLE_SIZE) return;
        data = data.subarray(PREAMBLE_SIZE);
        preambleRead = true;
      }
      while (data.length >= LENGTH_SIZE && data.length >= LENGTH_SIZE + data.readUInt32BE(0)) {
        const length = data.readUInt32BE(0);
        const frame = { kind: data[LENGTH_SIZE]!, body: Buffer.from(data.subarray(LENGTH_SIZE, LENGTH_SIZE + length)) };
        data = data.subarray(LENGTH_SIZE + length);
        received.push(frame);
        if (frame.kind === 1) socket.write(frameBytes(5, [frame.body.readUInt32BE(1)], 0));
        else {
          const reply = answer?.(frame);
          if (reply !== undefined) socket.write(reply);
        }
      }
    });
  });
}

/** A raw client socket speaking the protocol by hand. */
export class RawPeer {
  readonly socket: Socket;
  private data = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  readonly closedPromise: Promise<void>;

  constructor(port: number, host = '127.0.0.1') {
    this.socket = netConnect({ port, host });
    sockets.add(this.socket);
    this.socket.on('error', () => {});
    this.socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closedPromise = new Promise((resolve) => {
      this.socket.on('close', () => {
        this.closed = true;
        for (const w of this.waiters.splice(0)) w();
        resolve();
      });
    });
  }

  async connected(): Promise<this> {
    if (!this.socket.connecting) return this;
    await once(this.socket, 'connect');
    return this;
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits for `n` bytes (or the close); returns them (consumed). */
  async read(n: number, timeoutMs = 3000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.data.length < n) {
      if (this.closed) throw new Error(`closed after ${this.data.length} of ${n} bytes`);
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${n} bytes`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
    const out = this.data.subarray(0, n);
    this.data = this.data.subarray(n);
    return out;
  }

  /** Reads the server's preamble: version and max frame size. */
  async readPreamble(): Promise<{ magic: number; version: number; maxFrameSize: number }> {
    const p = await this.read(PREAMBLE_SIZE);
    return { magic: p.readUInt32BE(0), version: p.readUInt16BE(4), maxFrameSize: p.readUInt32BE(8) };
  }

  /** Reads one frame: kind, request id (if any) and the decoded payload. */
  async readFrame(timeoutMs = 3000): Promise<{ kind: number; id: number; value: unknown }> {
    const length = (await this.read(4, timeoutMs)).readUInt32BE(0);
    const body = await this.read(length, timeoutMs);
    const kind = body[0]!;
    const header = (HEADER_SIZE[kind] ?? 5) - LENGTH_SIZE;
    const id = header >= 5 ? body.readUInt32BE(1) : 0;
    const value = body.length > header ? codec.decode(Buffer.from(body), header, body.length) : undefined;
    return { kind, id, value };
  }

  /** Resolves when the server closed the connection; rejects after `timeoutMs`. */
  async waitClosed(timeoutMs = 3000): Promise<void> {
    await Promise.race([
      this.closedPromise,
      new Promise((_, reject) => setTimeout(() => reject(new Error('connection still open')), timeoutMs)),
    ]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `condition` holds, checking every 10 ms; fails after `timeoutMs`, naming `what`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The connection and request counts of a remote service's transport (not public API, hence the cast). */
export function transportStats(service: RpcService): TransportStats {
  return (service as unknown as { transport: { stats(): TransportStats } }).transport.stats();
}

/** The rejection of `promise` (fails if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/**
 * A service on an open network: raw sockets that send garbage, bad preambles, oversized headers, half frames or
 * nothing at all, and peers that try to call what is not declared. Each gets its connection closed (with a log line)
 * or its call refused, and the service keeps serving everyone else.
 */

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HandshakeException, RpcConnectionException, RpcException, type RpcService } from '../../src/index.js';
import { FrameKind, PROTOCOL_VERSION } from '../../src/transport/frames.js';

const { ASK, DECLARE, ERROR, HANDSHAKE, PING, PONG, REPLY, TELL } = FrameKind;

import { ValueEndpoint, ValueGateway } from './gateways.js';
import {
  assertNoLeaks,
  captureLogger,
  cleanup,
  frameBytes,
  type LogEntry,
  preambleBytes,
  RawPeer,
  rawServer,
  rejectionOf,
  remoteService,
  sleep,
} from './support.js';

afterEach(cleanup);
afterAll(assertNoLeaks);

interface Setup {
  service: RpcService;
  endpoint: ValueEndpoint;
  port: number;
  logs: LogEntry[];
}

async function setup(config = {}): Promise<Setup> {
  const logs: LogEntry[] = [];
  const service = await remoteService({ logger: captureLogger(logs), ...config });
  const endpoint = new ValueEndpoint(service);
  endpoint.start();
  return { service, endpoint, port: service.getPort(), logs };
}

/** A legitimate client still gets answers. */
async function stillServes(s: Setup): Promise<void> {
  const client = await remoteService();
  const gw = await client.connect(s.endpoint.getAddress(), ValueGateway);
  await expect(gw.echo('alive')).resolves.toBe('alive');
}

async function rawPeer(port: number, version = PROTOCOL_VERSION): Promise<RawPeer> {
  const peer = await new RawPeer(port).connected();
  peer.write(preambleBytes(version));
  const preamble = await peer.readPreamble();
  expect(preamble.version).toBe(PROTOCOL_VERSION);
  return peer;
}

function warned(logs: LogEntry[], pattern: RegExp): boolean {
  return logs.some((e) => e.level === 'warn' && pattern.test(String(e.msg)));
}

describe('malformed input closes the connection, the service goes on', () => {
  it('a bad preamble (another protocol)', async () => {
    const s = await setup();
    const peer = await new RawPeer(s.port).connected();
    peer.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await peer.waitClosed();
    expect(warned(s.logs, /bad preamble/)).toBe(true);
    await stillServes(s);
  });

  it('garbage after a good preamble (unknown frame kind)', async () => {
    const s = await setup();
    const peer = await rawPeer(s.port);
    peer.write(Buffer.from([0, 0, 0, 3, 0x7f, 1, 2]));
    await peer.waitClosed();
    expect(warned(s.logs, /unknown kind 127/)).toBe(true);
    await stillServes(s);
  });

  it('a frame header announcing more than the maximum frame size, before any body is sent', async () => {
    const s = await setup({ maxFrameSize: 64 * 1024 });
    const peer = await rawPeer(s.port);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(64 * 1024 + 1, 0);
    header[4] = ASK;
    peer.write(header);
    await peer.waitClosed();
    expect(warned(s.logs, /announcing 65537 bytes, more than the maximum frame size 65536/)).toBe(true);
    await stillServes(s);
  });

  it('a peer that stalls in the middle of a frame', async () => {
    const s = await setup({ idleTimeout: 300, pingInterval: 100 });
    const peer = await rawPeer(s.port);
    const frame = frameBytes(ASK, [1, 0], [1, 2, 3]);
    peer.write(frame.subarray(0, frame.length - 2));
    const started = performance.now();
    await peer.waitClosed(3000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(warned(s.logs, /stalled in the middle of a frame/)).toBe(true);
    await stillServes(s);
  });

  it('frames only a server sends, calls on undeclared routes, routes out of order, malformed control payloads', async () => {
    const s = await setup();
    const cases: Buffer[] = [
      frameBytes(REPLY, [1], 'x'),
      frameBytes(ERROR, [1], 'x'),
      frameBytes(ASK, [1, 5], []),
      frameBytes(TELL, [0], []),
      frameBytes(DECLARE, [3], ['flink', 'values', 'ValueGateway', 'echo']),
      frameBytes(DECLARE, [0], ['flink', 'values', 'ValueGateway']),
      frameBytes(DECLARE, [0], { not: 'an array' }),
      frameBytes(HANDSHAKE, [1], ['flink', '', 'ValueGateway']),
      frameBytes(HANDSHAKE, [1], ['flink', 'x'.repeat(300), 'ValueGateway']),
      Buffer.from([0, 0, 0, 2, PING, 0]),
      Buffer.from([0, 0, 0, 0]),
      Buffer.from([0, 0, 0, 3, ASK, 0, 0]),
    ];
    for (const bytes of cases) {
      const peer = await rawPeer(s.port);
      peer.write(bytes);
      await peer.waitClosed();
    }
    expect(s.logs.filter((e) => e.level === 'warn').length).toBeGreaterThanOrEqual(cases.length);
    await stillServes(s);
  });

  it('a preamble announcing a frame limit too small for any handshake', async () => {
    const s = await setup();
    const peer = await new RawPeer(s.port).connected();
    peer.write(preambleBytes(PROTOCOL_VERSION, 100));
    await peer.waitClosed();
    expect(warned(s.logs, /a maximum frame size of 100 bytes/)).toBe(true);
    await stillServes(s);
  });

  it('answers pings with pongs', async () => {
    const s = await setup();
    const peer = await rawPeer(s.port);
    peer.write(Buffer.from([0, 0, 0, 1, PING]));
    const frame = await peer.readFrame();
    expect(frame.kind).toBe(PONG);
  });
});

describe('idle sockets', () => {
  it('closes a socket that never sends its preamble after the handshake timeout', async () => {
    const s = await setup({ handshakeTimeout: 200 });
    const peer = await new RawPeer(s.port).connected();
    const started = performance.now();
    await peer.waitClosed();
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    expect(warned(s.logs, /no preamble within the handshake timeout of 200 ms/)).toBe(true);
  });

  it('many idle sockets that never handshake do not block others', async () => {
    const s = await setup({ handshakeTimeout: 2000 });
    const idle = await Promise.all(Array.from({ length: 200 }, () => new RawPeer(s.port).connected()));
    await stillServes(s);
    // Half-sent preambles do not either.
    for (const peer of idle.slice(0, 100)) peer.write(preambleBytes().subarray(0, 5));
    await stillServes(s);
    for (const peer of idle) peer.destroy();
  });
});

describe('protocol versions', () => {
  it('refuses a client of another version after telling it its own', async () => {
    const s = await setup();
    const peer = await new RawPeer(s.port).connected();
    peer.write(preambleBytes(PROTOCOL_VERSION + 1));
    const preamble = await peer.readPreamble();
    expect(preamble.version).toBe(PROTOCOL_VERSION);
    await peer.waitClosed();
    expect(warned(s.logs, /protocol version 2/)).toBe(true);
    await stillServes(s);
  });

  it('fails connect to a server of another version with HandshakeException naming both versions', async () => {
    const port = await rawServer((socket) => socket.write(preambleBytes(7)));
    const client = await remoteService();
    const error = await rejectionOf(client.connect(`rpc.tcp://flink@127.0.0.1:${port}/values`, ValueGateway));
    expect(error).toBeInstanceOf(HandshakeException);
    expect(error.message).toBe(
      'Version mismatch between source (1) and target (7) rpc component. Please verify that all components have the same version.',
    );
  });

  it('fails connect to a server that sends garbage with RpcConnectionException', async () => {
    const port = await rawServer((socket) => socket.write(Buffer.from('SSH-2.0-OpenSSH_9.6\r\n')));
    const client = await remoteService();
    const error = await rejectionOf(client.connect(`rpc.tcp://flink@127.0.0.1:${port}/values`, ValueGateway));
    expect(error).toBeInstanceOf(RpcConnectionException);
    expect(error).not.toBeInstanceOf(HandshakeException);
  });

  it('fails the pending calls of a client whose server answers with frames only clients send', async () => {
    const port = await rawServer((socket) => {
      socket.write(preambleBytes());
      socket.on('data', () => socket.write(frameBytes(ASK, [1, 0], [])));
    });
    const client = await remoteService();
    const error = await rejectionOf(client.connect(`rpc.tcp://flink@127.0.0.1:${port}/values`, ValueGateway));
    expect(error).toBeInstanceOf(RpcConnectionException);
  });
});

describe('only declared methods can be called remotely', () => {
  it('refuses closeAsync, onStop, constructor, __proto__, toString, undeclared and unserved methods', async () => {
    const s = await setup();
    const peer = await rawPeer(s.port);
    const forbidden: [string, string][] = [
      ['ValueGateway', 'closeAsync'],
      ['ValueGateway', 'onStop'],
      ['ValueGateway', 'constructor'],
      ['ValueGateway', '__proto__'],
      ['ValueGateway', 'toString'],
      ['ValueGateway', 'secret'],
      ['ValueGateway', 'release'],
      ['ValueGateway', 'runAsync'],
      ['UnservedGateway', 'secret'],
      ['Object', 'constructor'],
      ['DerivedGateway', 'localOnly'],
    ];
    forbidden.forEach(([gw, method], route) => {
      peer.write(frameBytes(DECLARE, [route], ['flink', 'values', gw, method]));
      peer.write(frameBytes(ASK, [100 + route, route], []));
      peer.write(frameBytes(TELL, [route], []));
    });
    for (let i = 0; i < forbidden.length; i++) {
      const frame = await peer.readFrame();
      expect(frame.kind).toBe(ERROR);
      expect(frame.id).toBe(100 + i);
      expect(frame.value).toBeInstanceOf(RpcException);
      expect(String((frame.value as Error).message)).toContain('Refused to invoke');
    }
    // The connection is alive and serves declared methods.
    const route = forbidden.length;
    peer.write(frameBytes(DECLARE, [route], ['flink', 'values', 'ValueGateway', 'echo']));
    peer.write(frameBytes(ASK, [7, route], ['ok']));
    const frame = await peer.readFrame();
    expect(frame).toEqual({ kind: REPLY, id: 7, value: 'ok' });
    expect(s.endpoint.secretCalls).toBe(0);
    expect(s.endpoint.stopped).toBe(false);
  });

  it('answers an undecodable or malformed argument payload with an error and keeps the connection', async () => {
    const s = await setup();
    const peer = await rawPeer(s.port);
    peer.write(frameBytes(DECLARE, [0], ['flink', 'values', 'ValueGateway', 'echo']));
    peer.write(frameBytes(ASK, [1, 0], undefined, { raw: Buffer.from([0xc1]) }));
    peer.write(frameBytes(ASK, [2, 0], { not: 'an array' }));
    peer.write(frameBytes(ASK, [3, 0], ['not a pair'], { flags: 1 }));
    for (const id of [1, 2, 3]) {
      const frame = await peer.readFrame();
      expect(frame.kind).toBe(ERROR);
      expect(frame.id).toBe(id);
    }
    peer.write(frameBytes(ASK, [4, 0], ['fine']));
    expect(await peer.readFrame()).toEqual({ kind: REPLY, id: 4, value: 'fine' });
  });

  it('answers handshakes for unknown endpoints and unserved gateways without closing', async () => {
    const s = await setup();
    const peer = await rawPeer(s.port);
    peer.write(frameBytes(HANDSHAKE, [1], ['flink', 'values', 'ValueGateway']));
    peer.write(frameBytes(HANDSHAKE, [2], ['flink', 'nobody', 'ValueGateway']));
    peer.write(frameBytes(HANDSHAKE, [3], ['flink', 'values', 'UnservedGateway']));
    peer.write(frameBytes(HANDSHAKE, [4], ['other', 'values', 'ValueGateway']));
    const answers = [await peer.readFrame(), await peer.readFrame(), await peer.readFrame(), await peer.readFrame()];
    expect(answers.map((a) => a.value)).toEqual([0, 2, 3, 1]);
    await sleep(10);
    expect(peer.closed).toBe(false);
  });
});

/** Port ranges, bind and external addresses, address helpers. */

import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { normalizeHost, parseRpcAddress, RpcException, RpcSystem, rpcAddressToHostAndPort } from '../../src/index.js';
import { parsePortRange } from '../../src/transport/ports.js';
import { ValueEndpoint, ValueGateway } from './gateways.js';
import { assertNoLeaks, cleanup, quietLogger, RawPeer, rejectionOf, remoteService } from './support.js';

afterAll(assertNoLeaks);

/** Whether this machine has an IPv6 loopback (the IPv6 spec is skipped where it has not). */
const ipv6 = await new Promise<boolean>((resolve) => {
  const probe = createServer();
  probe.once('error', () => resolve(false));
  probe.listen(0, '::1', () => probe.close(() => resolve(true)));
});

const blockers: Server[] = [];
afterEach(async () => {
  for (const server of blockers.splice(0)) server.close();
  await cleanup();
});

async function occupy(port: number): Promise<boolean> {
  const server = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) blockers.push(server);
  return ok;
}

/** Two consecutive ports, the first held by another socket, the second free. */
async function busyThenFree(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (!(await occupy(port))) continue;
    const probe = createServer();
    const free = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(port + 1, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no port pair found');
}

describe('parsePortRange', () => {
  it('parses single ports, ranges and lists', () => {
    expect(parsePortRange('0')).toEqual([0]);
    expect(parsePortRange('6123')).toEqual([6123]);
    expect(parsePortRange('50100-50102')).toEqual([50100, 50101, 50102]);
    expect(parsePortRange('50100,50102')).toEqual([50100, 50102]);
    expect(parsePortRange(' 1 - 3 , 5,2 ')).toEqual([1, 2, 3, 5]);
  });

  it('rejects bad syntax with "Invalid port range definition"', () => {
    for (const bad of ['', 'abc', '5-3', '70000', '-1', '1,,2', '1-', '80 81', '1.5', '+1']) {
      expect(() => parsePortRange(bad), bad).toThrow(`Invalid port range definition: ${bad}`);
    }
  });
});

describe('binding', () => {
  it('binds port "0" to a free port and reports address and port', async () => {
    const service = await remoteService();
    expect(service.getAddress()).toBe('127.0.0.1');
    expect(service.getPort()).toBeGreaterThan(0);
    const endpoint = new ValueEndpoint(service);
    expect(endpoint.getAddress()).toBe(`rpc.tcp://flink@127.0.0.1:${service.getPort()}/values`);
  });

  it('creates services concurrently on port "0" without conflicts', async () => {
    const services = await Promise.all(Array.from({ length: 8 }, () => remoteService()));
    expect(new Set(services.map((s) => s.getPort())).size).toBe(8);
  });

  it('skips busy ports of a range and fails clearly when the range is exhausted', async () => {
    const busy = await busyThenFree();
    const service = await remoteService({}, `${busy}-${busy + 1}`);
    expect(service.getPort()).toBe(busy + 1);
    const error = await rejectionOf(remoteService({}, `${busy},${busy + 1}`));
    expect(error).toBeInstanceOf(RpcException);
    expect(error.message).toBe(`Could not start RpcService on any port in port range ${busy},${busy + 1}`);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  });

  it('rejects a bad port range when the service is created', async () => {
    await expect(remoteService({}, '12-ab')).rejects.toThrow('Invalid port range definition: 12-ab');
  });

  it('binds withBindPort while advertising the external port', async () => {
    const busy = await busyThenFree();
    const bindPort = busy + 1;
    const service = await RpcSystem.load()
      .remoteServiceBuilder({ logger: quietLogger() }, 'node-a.example', '40000')
      .withBindAddress('127.0.0.1')
      .withBindPort(bindPort)
      .createAndStart();
    try {
      expect(service.getPort()).toBe(40000);
      expect(service.getAddress()).toBe('node-a.example');
      const peer = await new RawPeer(bindPort).connected();
      const preamble = await peer.readPreamble();
      expect(preamble.magic).toBe(0x46525043);
      peer.destroy();
    } finally {
      await service.closeAsync();
    }
  });

  it('defaults the external address to loopback and normalizes it', async () => {
    const service = await RpcSystem.load()
      .remoteServiceBuilder({ logger: quietLogger() }, null, '0')
      .withBindAddress('127.0.0.1')
      .createAndStart();
    try {
      expect(service.getAddress()).toBe('127.0.0.1');
    } finally {
      await service.closeAsync();
    }
    const upper = await RpcSystem.load()
      .remoteServiceBuilder({ logger: quietLogger() }, 'LocalHost', '0')
      .withBindAddress('127.0.0.1')
      .createAndStart();
    try {
      expect(upper.getAddress()).toBe('localhost');
    } finally {
      await upper.closeAsync();
    }
  });

  it.skipIf(!ipv6)('serves and calls over IPv6 with bracketed addresses', async () => {
    const build = () =>
      RpcSystem.load()
        .remoteServiceBuilder({ logger: quietLogger() }, '0:0:0:0:0:0:0:1', '0')
        .withBindAddress('::1')
        .createAndStart();
    const server = await build();
    const client = await build();
    try {
      const endpoint = new ValueEndpoint(server);
      endpoint.start();
      expect(endpoint.getAddress()).toBe(`rpc.tcp://flink@[::1]:${server.getPort()}/values`);
      const gw = await client.connect(endpoint.getAddress(), ValueGateway);
      await expect(gw.echo('v6')).resolves.toBe('v6');
      expect(gw.getHostname()).toBe('::1');
    } finally {
      await client.closeAsync();
      await server.closeAsync();
    }
  });

  it('fails clearly for a bind address that is not on this machine', async () => {
    const error = await rejectionOf(
      RpcSystem.load()
        .remoteServiceBuilder({ logger: quietLogger() }, '127.0.0.1', '0')
        .withBindAddress('192.0.2.1')
        .createAndStart(),
    );
    expect(error).toBeInstanceOf(RpcException);
    expect(error.message).toContain('Could not bind the RPC service to 192.0.2.1:0');
  });
});

describe('address helpers', () => {
  it('normalizes hosts', () => {
    expect(normalizeHost(' LocalHost ')).toBe('localhost');
    expect(normalizeHost('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(normalizeHost('[FE80:0:0:0:0:0:0:1]')).toBe('fe80::1');
    expect(normalizeHost('10.0.0.1')).toBe('10.0.0.1');
  });

  it('extracts host and port of remote addresses and rejects local ones', () => {
    expect(rpcAddressToHostAndPort('rpc.tcp://flink@1.2.3.4:6123/jobmanager')).toEqual({ host: '1.2.3.4', port: 6123 });
    expect(rpcAddressToHostAndPort('rpc.ssl.tcp://flink@[::1]:6123/x')).toEqual({ host: '::1', port: 6123 });
    expect(rpcAddressToHostAndPort('rpc.tcp://flink@host.example:1/x')).toEqual({ host: 'host.example', port: 1 });
    expect(() => rpcAddressToHostAndPort('rpc://flink/x')).toThrow(TypeError);
    expect(parseRpcAddress('rpc.tcp://flink@host:0/x')).toBeUndefined();
  });
});

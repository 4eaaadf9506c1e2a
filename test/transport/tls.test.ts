/**
 * TLS with mutual authentication. The certificates are made here with openssl: a trusted CA with two node
 * certificates, and a rogue CA with a certificate of its own.
 */

import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HandshakeException, RpcConnectionException, type RpcTlsConfig } from '../../src/index.js';
import { ValueEndpoint, ValueGateway } from './gateways.js';
import { assertNoLeaks, cleanup, preambleBytes, RawPeer, rejectionOf, remoteService } from './support.js';

let dir: string;
const pem = (name: string): string => readFileSync(join(dir, name), 'utf8');

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCa(name: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
  );
}

function makeNode(name: string, ca: string): void {
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.crt`,
  );
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flink-rpc-tls-'));
  makeCa('ca');
  makeCa('rogue-ca');
  makeNode('node-a', 'ca');
  makeNode('node-b', 'ca');
  makeNode('rogue', 'rogue-ca');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(cleanup);
afterAll(assertNoLeaks);

function tls(node: string, ca = 'ca', extra: Partial<RpcTlsConfig> = {}): RpcTlsConfig {
  return { key: pem(`${node}.key`), cert: pem(`${node}.crt`), ca: pem(`${ca}.crt`), ...extra };
}

async function tlsServer(config: RpcTlsConfig = tls('node-a')) {
  const service = await remoteService({ tls: config });
  const endpoint = new ValueEndpoint(service);
  endpoint.start();
  return { service, endpoint };
}

describe('TLS with mutual authentication', () => {
  it('serves rpc.ssl.tcp addresses between services with trusted certificates', async () => {
    const { endpoint } = await tlsServer();
    expect(endpoint.getAddress()).toMatch(/^rpc\.ssl\.tcp:\/\/flink@127\.0\.0\.1:\d+\/values$/);
    const client = await remoteService({ tls: tls('node-b') });
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    await expect(gw.echo({ secure: true })).resolves.toEqual({ secure: true });
    await expect(gw.echo(Buffer.alloc(1_000_000, 3))).resolves.toHaveLength(1_000_000);
  });

  it('refuses a client whose certificate the server does not trust: RpcConnectionException, not a timeout', async () => {
    const { endpoint } = await tlsServer();
    // The rogue client trusts the server, but the server does not trust the rogue CA.
    const rogue = await remoteService({
      tls: { ...tls('rogue', 'rogue-ca'), ca: [pem('ca.crt'), pem('rogue-ca.crt')] },
      askTimeout: 30_000,
    });
    const started = performance.now();
    const error = await rejectionOf(rogue.connect(endpoint.getAddress(), ValueGateway));
    expect(error).toBeInstanceOf(RpcConnectionException);
    expect(error).not.toBeInstanceOf(HandshakeException);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('refuses a server whose certificate the client does not trust', async () => {
    const { endpoint } = await tlsServer();
    const client = await remoteService({ tls: tls('node-b', 'rogue-ca') });
    const error = await rejectionOf(client.connect(endpoint.getAddress(), ValueGateway));
    expect(error).toBeInstanceOf(RpcConnectionException);
    expect(String((error.cause as Error).message)).toMatch(/certificate/i);
  });

  it('pins certificate fingerprints when configured', async () => {
    const fingerprintB = new X509Certificate(pem('node-b.crt')).fingerprint256;
    const fingerprintA = new X509Certificate(pem('node-a.crt')).fingerprint256;
    // The server accepts node-b only; node-a (same CA) is refused.
    const { endpoint } = await tlsServer(tls('node-a', 'ca', { fingerprints: [fingerprintB] }));
    const pinnedOk = await remoteService({ tls: tls('node-b', 'ca', { fingerprints: [fingerprintA] }) });
    const gw = await pinnedOk.connect(endpoint.getAddress(), ValueGateway);
    await expect(gw.echo(1)).resolves.toBe(1);
    const refused = await remoteService({ tls: tls('node-a') });
    await expect(refused.connect(endpoint.getAddress(), ValueGateway)).rejects.toBeInstanceOf(RpcConnectionException);
    // And a client pinning another fingerprint refuses the server.
    const picky = await remoteService({ tls: tls('node-b', 'ca', { fingerprints: [fingerprintB] }) });
    const error = await rejectionOf(picky.connect(endpoint.getAddress(), ValueGateway));
    expect(error).toBeInstanceOf(RpcConnectionException);
    expect(String((error.cause as Error).message)).toContain('pinned');
  });

  it('drops plain TCP peers on a TLS port, and plain services refuse rpc.ssl.tcp addresses', async () => {
    const { service, endpoint } = await tlsServer();
    const raw = await new RawPeer(service.getPort()).connected();
    raw.write(preambleBytes());
    await raw.waitClosed();
    const plain = await remoteService();
    await expect(plain.connect(endpoint.getAddress(), ValueGateway)).rejects.toThrow(/needs TLS/);
  });

  it('rejects an incomplete TLS configuration when the service is created', async () => {
    await expect(
      remoteService({ tls: { key: pem('node-a.key'), cert: pem('node-a.crt') } as RpcTlsConfig }),
    ).rejects.toThrow(/tls\.ca is required/);
  });
});

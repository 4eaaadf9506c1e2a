/**
 * TLS with mutual authentication (Flink's internal SSL): both sides present a certificate that must chain to the
 * configured CA, and optionally match one of the pinned SHA-256 fingerprints.
 */

import { isIP } from 'node:net';
import type { ConnectionOptions, TLSSocket, TlsOptions } from 'node:tls';
import { checkServerIdentity } from 'node:tls';
import type { RpcTlsConfig } from '../rpc/config.js';

/** Throws a TypeError naming the option when the TLS configuration is incomplete. */
export function validateTlsConfig(tls: RpcTlsConfig): void {
  for (const name of ['key', 'cert', 'ca'] as const) {
    const value = tls[name];
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
      throw new TypeError(`Invalid RPC config: tls.${name} is required for TLS with mutual authentication.`);
    }
  }
  if (tls.fingerprints !== undefined && !Array.isArray(tls.fingerprints)) {
    throw new TypeError('Invalid RPC config: tls.fingerprints must be an array of SHA-256 fingerprints.');
  }
}

function caList(tls: RpcTlsConfig): (string | Buffer)[] {
  return Array.isArray(tls.ca) ? [...tls.ca] : [tls.ca as string | Buffer];
}

/** Options of the server socket: a client certificate is required and verified. */
export function serverTlsOptions(tls: RpcTlsConfig, handshakeTimeout: number): TlsOptions {
  return {
    key: tls.key,
    cert: tls.cert,
    ca: caList(tls),
    requestCert: true,
    rejectUnauthorized: true,
    handshakeTimeout,
    minVersion: 'TLSv1.2',
  };
}

/** Options of an outbound connection: the server certificate is verified; its host name only if configured. */
export function clientTlsOptions(tls: RpcTlsConfig, host: string, port: number): ConnectionOptions {
  return {
    host,
    port,
    key: tls.key,
    cert: tls.cert,
    ca: caList(tls),
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    // SNI takes host names only.
    servername: isIP(host) === 0 ? host : undefined,
    checkServerIdentity: tls.checkServerIdentity === true ? checkServerIdentity : () => undefined,
  };
}

function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replace(/:/g, '').toLowerCase();
}

/**
 * Null when the peer's certificate is acceptable (authorized by the CA and, if fingerprints are pinned, one of
 * them); otherwise why not.
 */
export function peerCertificateProblem(socket: TLSSocket, tls: RpcTlsConfig): string | null {
  if (!socket.authorized) return `the peer certificate is not trusted (${String(socket.authorizationError)})`;
  const pinned = tls.fingerprints;
  if (pinned === undefined || pinned.length === 0) return null;
  const fingerprint = socket.getPeerCertificate()?.fingerprint256;
  if (typeof fingerprint !== 'string') return 'the peer sent no certificate';
  const actual = normalizeFingerprint(fingerprint);
  return pinned.some((p) => normalizeFingerprint(p) === actual)
    ? null
    : `the peer certificate (SHA-256 ${fingerprint}) is not one of the pinned fingerprints`;
}

/**
 * RPC addresses. An endpoint's address names its service and its id:
 * - local-only service: `rpc://<system>/<endpointId>`
 * - remote service: `rpc.tcp://<system>@<host>:<port>/<endpointId>` (`rpc.ssl.tcp://…` with TLS; IPv6 as `[::1]`)
 */

import { isIPv6 } from 'node:net';

/** The protocols of RPC addresses. */
export type RpcProtocol = 'rpc' | 'rpc.tcp' | 'rpc.ssl.tcp';

/** The parts of an RPC address. */
export interface RpcAddress {
  readonly protocol: RpcProtocol;
  /** The service (actor system) name, e.g. `flink`. */
  readonly system: string;
  /** Host without brackets (IPv6 `::1`); undefined for a local address. */
  readonly host: string | undefined;
  /** Port; undefined for a local address. */
  readonly port: number | undefined;
  /** The endpoint id (may be empty when the address names a service only). */
  readonly endpointId: string;
}

const ADDRESS =
  /^(rpc|rpc\.tcp|rpc\.ssl\.tcp):\/\/([A-Za-z0-9][\w-]*)(?:@(\[[0-9A-Fa-f:.]+\]|[^:/@[\]\s]+):(\d{1,5}))?\/(.*)$/;

/** Parses an RPC address; undefined when it is malformed. */
export function parseRpcAddress(address: string): RpcAddress | undefined {
  if (typeof address !== 'string') return undefined;
  const m = ADDRESS.exec(address);
  if (!m) return undefined;
  const protocol = m[1] as RpcProtocol;
  const hasHost = m[3] !== undefined;
  if ((protocol === 'rpc') === hasHost) return undefined;
  let host: string | undefined;
  let port: number | undefined;
  if (hasHost) {
    host = m[3]!.startsWith('[') ? m[3]!.slice(1, -1) : m[3]!;
    port = Number(m[4]);
    if (port < 1 || port > 65535) return undefined;
  }
  return { protocol, system: m[2]!, host, port, endpointId: m[5]! };
}

/**
 * Normalizes a host name or IP address (Flink's `NetUtils.unresolvedHostToNormalizedString`): trimmed, lower case,
 * IPv6 without brackets and in its compressed form (`0:0:0:0:0:0:0:1` → `::1`). An empty string stays empty.
 */
export function normalizeHost(host: string): string {
  let h = String(host).trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (isIPv6(h)) {
    // The WHATWG URL parser prints IPv6 addresses in their canonical compressed form.
    h = new URL(`http://[${h}]/`).hostname.slice(1, -1);
  }
  return h;
}

/** Formats a host for an address: normalized, IPv6 in brackets. */
export function formatHost(host: string): string {
  const h = normalizeHost(host);
  return h.includes(':') ? `[${h}]` : h;
}

/** Builds the address prefix of a service; append an endpoint id to get an endpoint's address. */
export function serviceAddressPrefix(protocol: RpcProtocol, system: string, host?: string, port?: number): string {
  if (protocol === 'rpc') return `rpc://${system}/`;
  if (host === undefined || port === undefined) throw new TypeError(`A ${protocol} address needs a host and a port.`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError('port must be in [1, 65535]');
  return `${protocol}://${system}@${formatHost(host)}:${port}/`;
}

/** Builds the address of an endpoint. */
export function buildRpcAddress(
  protocol: RpcProtocol,
  system: string,
  host: string | undefined,
  port: number | undefined,
  endpointId: string,
): string {
  return serviceAddressPrefix(protocol, system, host, port) + endpointId;
}

/** Endpoint ids become the last segment of an address: keep them unambiguous. */
export function isValidEndpointId(id: string): boolean {
  return typeof id === 'string' && id.length > 0 && id.length <= 255 && /^[\w\-.:~+=,;!*'()$&@]+$/.test(id);
}

/**
 * The host and port of a remote RPC address (Flink's `getInetSocketAddressFromRpcUrl`).
 * @throws TypeError for a malformed or local (`rpc://…`) address
 */
export function rpcAddressToHostAndPort(address: string): { host: string; port: number } {
  const parsed = parseRpcAddress(address);
  if (parsed === undefined || parsed.host === undefined || parsed.port === undefined) {
    throw new TypeError(
      `Could not retrieve host and port from the RPC address ${String(address)}: not a remote address.`,
    );
  }
  return { host: normalizeHost(parsed.host), port: parsed.port };
}

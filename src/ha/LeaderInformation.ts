/** What a leader publishes: its RPC address and the session id that fences its messages. */

/**
 * The confirmed leader of one component (Flink's `LeaderInformation`): the address others connect to, and the leader
 * session id of the leadership it was confirmed under, which callers use as the fencing token.
 * `null` stands for "no leader" wherever a `LeaderInformation | null` appears.
 */
export interface LeaderInformation {
  readonly sessionId: string;
  readonly address: string;
}

/** Equality by value; `null` (no leader) equals only `null`. */
export function sameLeaderInformation(a: LeaderInformation | null, b: LeaderInformation | null): boolean {
  if (a === null || b === null) return a === b;
  return a.sessionId === b.sessionId && a.address === b.address;
}

/** Human-readable form for logs. */
export function describeLeader(info: LeaderInformation | null): string {
  return info === null ? 'no leader' : `${info.address} (session ${info.sessionId})`;
}

const FORMAT_VERSION = 1;

/** Serializes leader information for a backend that stores bytes (ZooKeeper). */
export function encodeLeaderInformation(info: LeaderInformation): Buffer {
  return Buffer.from(JSON.stringify({ v: FORMAT_VERSION, address: info.address, sessionId: info.sessionId }), 'utf8');
}

/**
 * Parses what {@link encodeLeaderInformation} wrote. Returns `null` for an empty node; throws `TypeError` for bytes
 * that are not leader information (the caller logs them and treats the component as leaderless, because anyone with
 * write access to the store could have put them there).
 */
export function decodeLeaderInformation(data: Buffer | null | undefined): LeaderInformation | null {
  if (data === null || data === undefined || data.length === 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch (error) {
    throw new TypeError('Leader information is not valid JSON.', { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null) throw new TypeError('Leader information is not an object.');
  const { v, address, sessionId } = parsed as Record<string, unknown>;
  if (v !== FORMAT_VERSION) throw new TypeError(`Unsupported leader information format version ${String(v)}.`);
  if (typeof address !== 'string' || address.length === 0 || typeof sessionId !== 'string' || sessionId.length === 0) {
    throw new TypeError('Leader information lacks a string address or session id.');
  }
  return { address, sessionId };
}

/**
 * Where the ZooKeeper backend keeps its nodes:
 * ```
 * <rootPath>/<clusterId>/leader/<componentId>/latch/latch-<contender uuid>-<sequence>   ephemeral sequential
 * <rootPath>/<clusterId>/leader/<componentId>/connection_info                          ephemeral, JSON
 * ```
 * One latch per component (so different components may lead from different processes); the connection info is
 * ephemeral so that it disappears with its leader's session and retrievers learn that there is no leader.
 */

/** The nodes of one component. */
export interface ComponentPaths {
  /** Parent of the latch nodes. */
  readonly latchDir: string;
  /** The published leader information. */
  readonly connectionInfo: string;
}

/** Paths of one cluster. */
export class ZooKeeperPaths {
  /** `<rootPath>/<clusterId>`: everything of the cluster; removed by `closeAndCleanupAllData`. */
  readonly clusterPath: string;

  constructor(rootPath: string, clusterId: string) {
    const root = normalizeRoot(rootPath);
    this.clusterPath = `${root === '/' ? '' : root}/${segment(clusterId, 'clusterId')}`;
  }

  component(componentId: string): ComponentPaths {
    const dir = `${this.clusterPath}/leader/${segment(componentId, 'componentId')}`;
    return { latchDir: `${dir}/latch`, connectionInfo: `${dir}/connection_info` };
  }
}

function normalizeRoot(rootPath: string): string {
  const trimmed = rootPath.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  if (!trimmed.startsWith('/'))
    throw new TypeError(`ZooKeeper rootPath must be absolute: ${JSON.stringify(rootPath)}.`);
  for (const part of trimmed.slice(1).split('/')) segment(part, 'rootPath');
  return trimmed;
}

function segment(value: string, what: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(value) || value === '.' || value === '..') {
    throw new TypeError(
      `Invalid ZooKeeper ${what} segment ${JSON.stringify(value)}: use letters, digits, '_', '.', '-'.`,
    );
  }
  return value;
}

const LATCH_PREFIX = 'latch-';

/** Name prefix of a contender's latch node; the uuid lets it find its node again after a lost create reply. */
export function latchPrefix(contenderId: string): string {
  return `${LATCH_PREFIX}${contenderId}-`;
}

/** The sequence number ZooKeeper appended (10 digits), or -1 for a node that is not a latch. */
export function latchSequence(name: string): number {
  if (!name.startsWith(LATCH_PREFIX)) return -1;
  const match = /(\d{10})$/.exec(name);
  return match ? Number(match[1]) : -1;
}

/** Latch node names in election order (lowest sequence first). */
export function sortLatches(children: readonly string[]): string[] {
  return children.filter((name) => latchSequence(name) >= 0).sort((a, b) => latchSequence(a) - latchSequence(b));
}

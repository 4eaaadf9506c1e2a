/** A ZooKeeper server and a scratch directory for the process tests of one file that run clusters with ZooKeeper HA. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startZooKeeper, type ZooKeeperTestServer } from '../../support/zookeeper.js';

/**
 * Settings under which a cluster of processes with ZooKeeper HA notices a lost JobManager or TaskManager within
 * seconds (a short ZooKeeper session, quick heartbeats) and registers again quickly, so failover tests stay short.
 */
export const QUICK_FAILOVER_CONFIGURATION: Readonly<Record<string, string>> = {
  'high-availability.zookeeper.client.session-timeout': '2 s',
  'heartbeat.interval': '200 ms',
  'heartbeat.timeout': '1 s',
  'cluster.registration.max-timeout': '1 s',
  'cluster.registration.error-delay': '200 ms',
  'cluster.registration.refused-registration-delay': '200 ms',
};

export interface ZooKeeperWorkDir {
  /** Started before the file's first test. */
  readonly zooKeeper: ZooKeeperTestServer;
  /** A fresh directory for HA storage and job output, removed after the file's last test. */
  readonly workDir: string;
}

/**
 * Starts ZooKeeper and makes the directory before the file's tests, stops and removes both after them. Call it at the
 * top level of the file, before the file's own `afterAll`: after-hooks run in reverse order, so a cluster the file
 * closes there is gone before ZooKeeper stops.
 */
export function useZooKeeperWorkDir(prefix: string): ZooKeeperWorkDir {
  let zooKeeper: ZooKeeperTestServer | undefined;
  let workDir: string | undefined;
  beforeAll(async () => {
    zooKeeper = await startZooKeeper();
    workDir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await zooKeeper?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });
  return {
    get zooKeeper() {
      if (zooKeeper === undefined) throw new Error('ZooKeeper starts in beforeAll: use it inside a test or hook');
      return zooKeeper;
    },
    get workDir() {
      if (workDir === undefined)
        throw new Error('the work directory is made in beforeAll: use it inside a test or hook');
      return workDir;
    },
  };
}

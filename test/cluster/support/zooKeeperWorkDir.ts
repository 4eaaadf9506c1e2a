/** A ZooKeeper server and a scratch directory for the process tests of one file that run clusters with ZooKeeper HA. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startZooKeeper, type ZooKeeperTestServer } from '../../support/zookeeper.js';

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

/** Guarded reads and writes of a component's `connection_info` node. */

import { describeLeader, encodeLeaderInformation, type LeaderInformation } from '../LeaderInformation.js';
import { CreateMode, Exception, isZooKeeperError, type ZooKeeperConnection } from './ZooKeeperConnection.js';

const MAX_ATTEMPTS = 5;

/**
 * Writes `info` to `infoPath` in one ZooKeeper transaction that first checks that `latchPath` (the writer's latch
 * node) still exists. If the writer has been deposed (its node deleted, its session expired) nothing is written and
 * the result is `false`: a deposed leader cannot overwrite its successor's information, whatever it believes.
 *
 * The node is ephemeral, owned by the writer's session: an existing node of another (older) session is replaced in the
 * same transaction, since otherwise it would vanish when that session ends.
 */
export async function writeLeaderInformationGuarded(
  connection: ZooKeeperConnection,
  latchPath: string,
  infoPath: string,
  info: LeaderInformation,
): Promise<boolean> {
  const data = encodeLeaderInformation(info);
  for (let attempt = 1; ; attempt++) {
    const stat = await connection.exists(infoPath);
    try {
      await connection.commit(`write ${infoPath}`, (tx) => {
        tx.check(latchPath, -1);
        if (stat === null) {
          tx.create(infoPath, data, CreateMode.EPHEMERAL);
        } else if (connection.ownsEphemeral(stat)) {
          tx.setData(infoPath, data, stat.version);
        } else {
          tx.remove(infoPath, stat.version);
          tx.create(infoPath, data, CreateMode.EPHEMERAL);
        }
      });
      return true;
    } catch (error) {
      // Which op failed is not reported reliably by nzc: ask directly whether the guard is what failed.
      if ((await connection.exists(latchPath)) === null) return false;
      const raced =
        isZooKeeperError(error, Exception.NODE_EXISTS) ||
        isZooKeeperError(error, Exception.BAD_VERSION) ||
        isZooKeeperError(error, Exception.NO_NODE);
      if (!raced || attempt >= MAX_ATTEMPTS) {
        throw new Error(`Could not write leader information ${describeLeader(info)} to ${infoPath}.`, {
          cause: error,
        });
      }
    }
  }
}

/** Deletes `infoPath` if it is this session's node and `latchPath` still exists (checked in the same transaction). */
export async function deleteLeaderInformationGuarded(
  connection: ZooKeeperConnection,
  latchPath: string,
  infoPath: string,
): Promise<void> {
  const stat = await connection.exists(infoPath);
  if (stat === null || !connection.ownsEphemeral(stat)) return;
  try {
    await connection.commit(`delete ${infoPath}`, (tx) => {
      tx.check(latchPath, -1);
      tx.remove(infoPath, stat.version);
    });
  } catch (error) {
    // Gone already, changed by a successor, or our latch is gone: in each case there is nothing of ours to delete.
    if (
      isZooKeeperError(error, Exception.NO_NODE) ||
      isZooKeeperError(error, Exception.BAD_VERSION) ||
      isZooKeeperError(error, Exception.NOT_EMPTY)
    ) {
      return;
    }
    throw error;
  }
}

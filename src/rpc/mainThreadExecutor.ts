/** The main-thread executor of an endpoint, built on its server's mailbox. */

import { RpcException } from './errors.js';
import type { MainThreadExecutor, ScheduledTask } from './executors.js';
import type { RpcServer } from './RpcServer.js';

const UNSUPPORTED = 'Not implemented because the method is currently not required.';

/**
 * @param server the endpoint's server, whose mailbox runs the tasks
 * @param assertRunningInMainThread the endpoint's own main-thread check, so that its wording lives in one place
 */
export function mainThreadExecutorOf(server: RpcServer, assertRunningInMainThread: () => void): MainThreadExecutor {
  return {
    execute(task) {
      server.runAsync(task);
    },
    schedule<T>(task: () => T, delayMs: number): ScheduledTask<Awaited<T>> {
      let result!: Awaited<T>;
      let failure: unknown;
      let failed = false;
      const handle = server.scheduleRunAsync(() => {
        try {
          result = task() as Awaited<T>;
        } catch (error) {
          failed = true;
          failure = error;
        }
      }, delayMs);
      const settled = handle.result.then(() => {
        if (failed) throw failure;
        return result;
      });
      settled.catch(() => {});
      return {
        cancel: () => handle.cancel(),
        get cancelled() {
          return handle.cancelled;
        },
        get done() {
          return handle.done;
        },
        result: settled,
      };
    },
    scheduleAtFixedRate() {
      throw new RpcException(UNSUPPORTED);
    },
    scheduleWithFixedDelay() {
      throw new RpcException(UNSUPPORTED);
    },
    assertRunningInMainThread,
    thenApply<T, R>(promise: PromiseLike<T>, onFulfilled: (value: T) => R, onRejected?: (error: unknown) => R) {
      // No timeout: a continuation waits as long as its source did. The runtime rejects it with
      // RecipientUnreachableException, without running it, if the endpoint terminates first.
      return Promise.resolve(promise).then(
        (value) => server.callAsync(() => onFulfilled(value), Number.POSITIVE_INFINITY),
        (error) =>
          server.callAsync(() => {
            if (onRejected) return onRejected(error);
            throw error;
          }, Number.POSITIVE_INFINITY),
      ) as Promise<Awaited<R>>;
    },
  };
}

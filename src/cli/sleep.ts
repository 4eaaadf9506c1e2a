/** The pause between two polls of a command that Ctrl-C must not have to wait out. */

/**
 * Resolves after `ms`, or as soon as `signal` aborts; never rejects, so a poll loop ends through its own check of
 * `signal.aborted` (a signal aborted before the call does not shorten the pause).
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

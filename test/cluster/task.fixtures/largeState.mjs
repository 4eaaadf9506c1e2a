// An operator whose snapshots are too large to travel inline (they go to the checkpoint storage directory).
const PADDING = 'x'.repeat(32 * 1024);

/** Config: `steps` (done after this many), `stepDelayMs`. Snapshots `{ done, padding }` (about 32 KiB). */
export const largeState = (context) => {
  const steps = Number(context.config.steps ?? 1);
  const stepDelayMs = Number(context.config.stepDelayMs ?? 0);
  let done = 0;
  return {
    open(_context, restored) {
      done = restored?.done ?? 0;
    },
    async step() {
      if (stepDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, stepDelayMs));
      done += 1;
      return done >= steps;
    },
    snapshotState: () => ({ done, padding: PADDING }),
    notifyCheckpointComplete() {},
    close() {},
  };
};

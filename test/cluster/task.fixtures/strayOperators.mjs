// Operators whose errors escape the task runtime's awaits (for the process-safety spec).
const base = () => ({ open() {}, snapshotState: () => 0, notifyCheckpointComplete() {}, close() {} });

/** Throws from a timer callback. */
export const timerThrow = () => {
  let armed = false;
  return {
    ...base(),
    async step() {
      if (!armed) {
        armed = true;
        setTimeout(() => {
          throw new Error('stray timer error');
        }, 5);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      return false;
    },
  };
};

/** Leaves a rejected promise without a handler. */
export const strayRejection = () => {
  let armed = false;
  return {
    ...base(),
    async step() {
      if (!armed) {
        armed = true;
        Promise.reject(new Error('stray rejection'));
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      return false;
    },
  };
};

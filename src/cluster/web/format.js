/** Formatting for people: durations, times, sizes and state colours. */

/**
 * "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min".
 * @param {number} ms
 */
export function formatDuration(ms) {
  if (ms === undefined || ms === null || ms < 0 || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** @param {number} timestamp epoch ms, or -1 / 0 for none */
export function formatTime(timestamp) {
  if (!timestamp || timestamp < 0) return '–';
  return new Date(timestamp).toLocaleTimeString([], { hour12: false });
}

/** @param {number} bytes */
export function formatBytes(bytes) {
  if (bytes === undefined || bytes === null || bytes < 0) return '–';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Task (execution) states in the order a task goes through them. */
export const EXECUTION_STATES = [
  'CREATED',
  'SCHEDULED',
  'DEPLOYING',
  'INITIALIZING',
  'RUNNING',
  'FINISHED',
  'CANCELING',
  'CANCELED',
  'FAILED',
];

const STATE_COLORS = {
  CREATED: '#94a3b8',
  SCHEDULED: '#a78bfa',
  DEPLOYING: '#8b5cf6',
  INITIALIZING: '#06b6d4',
  RUNNING: '#2563eb',
  FINISHED: '#16a34a',
  CANCELING: '#f97316',
  CANCELLING: '#f97316',
  CANCELED: '#64748b',
  FAILING: '#ef4444',
  FAILED: '#dc2626',
  RESTARTING: '#d97706',
  SUSPENDED: '#64748b',
  IN_PROGRESS: '#06b6d4',
  COMPLETED: '#16a34a',
};

/** @param {string} state a job, task or checkpoint state */
export function stateColor(state) {
  return STATE_COLORS[state] ?? '#94a3b8';
}

/** @param {string} state */
export function isTerminalJobState(state) {
  return state === 'FINISHED' || state === 'CANCELED' || state === 'FAILED';
}

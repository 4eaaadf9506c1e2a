/** Task managers: their slots (free or held by a job) and the time since their last heartbeat. */

import { html, Panel } from './components.js';
import { formatDuration } from './format.js';

export function TaskManagersPage({ taskmanagers }) {
  return html`<div class="page">
    <${Panel} title=${`Task managers${taskmanagers ? ` (${taskmanagers.length})` : ''}`}>
      <${TaskManagerTable} taskmanagers=${taskmanagers} />
    <//>
  </div>`;
}

export function TaskManagerTable({ taskmanagers }) {
  if (!taskmanagers) return html`<p class="muted">Loading…</p>`;
  if (taskmanagers.length === 0) {
    return html`<p class="muted" data-testid="no-taskmanagers">No task manager is registered. Start one with <code>flink-rpc taskmanager</code>.</p>`;
  }
  const sorted = [...taskmanagers].sort((a, b) => a.id.localeCompare(b.id));
  return html`<table class="table taskmanagers">
    <thead>
      <tr><th>Task manager</th><th>Host</th><th>Slots</th><th>Free</th><th>Last heartbeat</th></tr>
    </thead>
    <tbody>
      ${sorted.map(
        (tm) => html`<tr key=${tm.id} data-tm-id=${tm.id}>
          <td><span class="tm-id">${tm.id}</span><div class="id">${tm.path}</div></td>
          <td>${tm.hostname}</td>
          <td><${SlotSquares} slots=${tm.allocatedSlots} total=${tm.slotsNumber} /></td>
          <td>${tm.freeSlots} / ${tm.slotsNumber}</td>
          <${HeartbeatCell} lastHeartbeat=${tm.timeSinceLastHeartbeat} />
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function SlotSquares({ slots, total }) {
  const list = slots && slots.length > 0 ? slots : Array.from({ length: total }, (_, slotNumber) => ({ slotNumber }));
  return html`<div class="slots">
    ${list.map(
      (slot) => html`<span
        key=${slot.slotNumber}
        class=${slot.jobId ? 'slot used' : 'slot'}
        title=${slot.jobId ? `slot ${slot.slotNumber}: job ${slot.jobId}` : `slot ${slot.slotNumber}: free`}
      ></span>`,
    )}
  </div>`;
}

/** Flink's `timeSinceLastHeartbeat` is, despite its name, the time of the last heartbeat (epoch milliseconds). */
function HeartbeatCell({ lastHeartbeat }) {
  if (!lastHeartbeat || lastHeartbeat <= 0) return html`<td class="muted">–</td>`;
  const ago = Math.max(0, Date.now() - lastHeartbeat);
  return html`<td class=${ago > 10_000 ? 'warn' : ''} title=${new Date(lastHeartbeat).toLocaleString()}>${formatDuration(ago)} ago</td>`;
}

/** The job list. */

import { html, StateBadge, TaskBar } from './components.js';
import { formatDuration, formatTime } from './format.js';

const STATE_ORDER = { RUNNING: 0, RESTARTING: 1, FAILING: 2, CANCELLING: 3, CREATED: 4, INITIALIZING: 5 };

export function JobTable({ jobs }) {
  if (!jobs) return html`<p class="muted">Loading…</p>`;
  if (jobs.length === 0)
    return html`<p class="muted" data-testid="no-jobs">No jobs yet. Submit one with <code>flink-rpc run job.json</code>.</p>`;
  const sorted = [...jobs].sort(
    (a, b) => (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9) || b['start-time'] - a['start-time'],
  );
  return html`<table class="table jobs">
    <thead>
      <tr><th>Job</th><th>State</th><th>Started</th><th>Duration</th><th class="wide">Tasks</th></tr>
    </thead>
    <tbody>
      ${sorted.map(
        (
          job,
        ) => html`<tr key=${job.jid} data-job-id=${job.jid} class="clickable" onClick=${() => (location.hash = `#/jobs/${job.jid}`)}>
          <td><a href=${`#/jobs/${job.jid}`} class="job-name">${job.name}</a><div class="id">${job.jid}</div></td>
          <td><${StateBadge} state=${job.state} /></td>
          <td>${formatTime(job['start-time'])}</td>
          <td>${formatDuration(job.duration)}</td>
          <td class="wide"><${TaskBar} tasks=${job.tasks} total=${job.tasks?.total} /></td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

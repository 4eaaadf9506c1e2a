/** The cluster overview: task managers, slots, jobs by state, and the job list. */

import { html, Panel, Stat } from './components.js';
import { JobTable } from './jobs.js';
import { TaskManagerTable } from './taskmanagers.js';

export function OverviewPage({ overview, jobs, taskmanagers }) {
  return html`<div class="page">
    <div class="stats">
      <${Stat} label="Task managers" value=${overview?.taskmanagers ?? '–'} testid="taskmanagers-count" />
      <${Stat}
        label="Task slots free / total"
        value=${overview ? `${overview['slots-available']} / ${overview['slots-total']}` : '–'}
        testid="slots"
        detail=${overview ? html`<${SlotMeter} free=${overview['slots-available']} total=${overview['slots-total']} />` : null}
      />
      <${Stat} label="Running jobs" value=${overview?.['jobs-running'] ?? '–'} testid="jobs-running" />
      <${Stat} label="Finished" value=${overview?.['jobs-finished'] ?? '–'} testid="jobs-finished" />
      <${Stat} label="Canceled" value=${overview?.['jobs-cancelled'] ?? '–'} testid="jobs-cancelled" />
      <${Stat} label="Failed" value=${overview?.['jobs-failed'] ?? '–'} testid="jobs-failed" />
    </div>
    <${Panel} title="Jobs">
      <${JobTable} jobs=${jobs} />
    <//>
    <${Panel} title="Task managers">
      <${TaskManagerTable} taskmanagers=${taskmanagers} />
    <//>
  </div>`;
}

function SlotMeter({ free, total }) {
  const used = total === 0 ? 0 : ((total - free) / total) * 100;
  return html`<div class="meter" title=${`${total - free} of ${total} slots in use`}>
    <span style=${{ width: `${used}%` }}></span>
  </div>`;
}

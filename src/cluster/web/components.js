/** Small shared pieces of the dashboard: state badges, task-state bars, panels, messages. */

import htm from 'htm';
import { h } from 'preact';
import { EXECUTION_STATES, stateColor } from './format.js';

export const html = htm.bind(h);

/** A coloured badge for a job, task or checkpoint state. */
export function StateBadge({ state }) {
  return html`<span class="badge" data-state=${state} style=${{ background: stateColor(state) }}>${state}</span>`;
}

/** A horizontal bar split by task state, with the counts in its tooltip. */
export function TaskBar({ tasks, total }) {
  const all = total ?? EXECUTION_STATES.reduce((sum, state) => sum + (tasks?.[state] ?? 0), 0);
  if (!tasks || all === 0) return html`<span class="muted">no tasks</span>`;
  const parts = EXECUTION_STATES.filter((state) => (tasks[state] ?? 0) > 0);
  const title = parts.map((state) => `${tasks[state]} ${state}`).join(', ');
  return html`<div class="taskbar" title=${title}>
    ${parts.map(
      (state) => html`<span style=${{ flexGrow: tasks[state], background: stateColor(state) }}>${tasks[state]}</span>`,
    )}
  </div>`;
}

/** A titled card. */
export function Panel({ title, actions, children, id }) {
  return html`<section class="panel" id=${id}>
    <header class="panel-head"><h2>${title}</h2>${actions ?? null}</header>
    <div class="panel-body">${children}</div>
  </section>`;
}

/** A big number with a label. */
export function Stat({ label, value, detail, testid, small }) {
  return html`<div class=${small ? 'stat small' : 'stat'}>
    <div class="stat-value" data-testid=${testid}>${value}</div>
    <div class="stat-label">${label}</div>
    ${detail ? html`<div class="stat-detail">${detail}</div>` : null}
  </div>`;
}

/** A problem talking to the cluster, worded for a person. */
export function ErrorBanner({ error }) {
  if (!error) return null;
  const text =
    error.status === 503
      ? `No JobManager leader right now (${error.message}). Retrying…`
      : error.status === 0
        ? 'Cannot reach the JobManager. Retrying…'
        : error.message;
  return html`<div class="banner" role="alert">${text}</div>`;
}

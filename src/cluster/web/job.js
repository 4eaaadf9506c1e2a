/** One job: its graph with per-subtask states, checkpoints, exceptions, and a cancel button. */

import { useState } from 'preact/hooks';
import { fetchJson, usePoll } from './api.js';
import { ErrorBanner, html, Panel, Stat, StateBadge, TaskBar } from './components.js';
import { formatBytes, formatDuration, formatTime, isTerminalJobState, stateColor } from './format.js';
import { JobGraph } from './graph.js';

export function JobPage({ jobId, refreshMs }) {
  const base = `/jobs/${encodeURIComponent(jobId)}`;
  const job = usePoll(base, refreshMs);
  const checkpoints = usePoll(`${base}/checkpoints`, refreshMs);
  const exceptions = usePoll(`${base}/exceptions`, refreshMs);

  if (job.error && job.error.status === 404) {
    return html`<div class="page"><div class="banner" role="alert">${job.error.message}</div><a href="#/">Back to the overview</a></div>`;
  }
  const details = job.data;
  return html`<div class="page">
    <${ErrorBanner} error=${job.error} />
    <div class="job-head">
      <div>
        <a href="#/" class="crumb">Jobs</a>
        <h1 data-testid="job-name">${details?.name ?? jobId}</h1>
        <div class="id">${jobId}</div>
      </div>
      <div class="job-head-right">
        ${details ? html`<span data-testid="job-state"><${StateBadge} state=${details.state} /></span>` : null}
        ${details ? html`<${CancelButton} jobId=${jobId} state=${details.state} onDone=${job.refresh} />` : null}
      </div>
    </div>
    ${
      details
        ? html`<div class="stats">
          <${Stat} label="Duration" value=${formatDuration(details.duration)} />
          <${Stat} label="Started" value=${formatTime(details['start-time'])} />
          <${Stat} label="Restarts" value=${details.numRestarts} testid="restarts" />
          <${Stat} label="Records committed" value=${formatRecords(details)} testid="records-committed" />
          <${Stat} label="Tasks" value=${html`<${TaskBar} tasks=${details['status-counts']} />`} />
        </div>`
        : null
    }
    <${Panel} title="Job graph" id="graph">
      ${details ? html`<div class="graph-wrap"><${JobGraph} job=${details} /></div><${Legend} />` : html`<p class="muted">Loading…</p>`}
    <//>
    ${details ? html`<${SubtasksPanel} job=${details} />` : null}
    <${CheckpointsPanel} stats=${checkpoints.data} />
    <${ExceptionsPanel} exceptions=${exceptions.data} />
  </div>`;
}

/** The records the job's vertices committed (their `write-records`), or a dash when no vertex reports any. */
function formatRecords(job) {
  const counted = job.vertices.filter((vertex) => typeof vertex.metrics?.['write-records'] === 'number');
  if (counted.length === 0) return '–';
  return counted.reduce((sum, vertex) => sum + vertex.metrics['write-records'], 0).toLocaleString('en-US');
}

/** Every subtask: its state, attempt, TaskManager and how long it has been in this attempt. */
function SubtasksPanel({ job }) {
  const total = job.vertices.reduce((sum, vertex) => sum + vertex.subtasks.length, 0);
  return html`<${Panel} title=${`Subtasks (${total})`} id="subtasks">
    <details open=${total <= 24}>
    <summary class="muted">State, attempt and TaskManager of each of the ${total} subtasks</summary>
    <table class="table subtasks">
      <thead><tr><th>Vertex</th><th>Subtask</th><th>State</th><th>Attempt</th><th>Task manager</th><th>Duration</th></tr></thead>
      <tbody>
        ${job.vertices.flatMap((vertex) =>
          vertex.subtasks.map(
            (
              subtask,
            ) => html`<tr key=${`${vertex.id}/${subtask.subtask}`} data-subtask=${`${vertex.id}/${subtask.subtask}`}>
              <td>${vertex.name}</td>
              <td>${subtask.subtask + 1} / ${vertex.parallelism}</td>
              <td><${StateBadge} state=${subtask.status} /></td>
              <td>${subtask.attempt}</td>
              <td class="id">${subtask['taskmanager-id'] ?? '–'}</td>
              <td>${formatDuration(subtask.duration)}</td>
            </tr>`,
          ),
        )}
      </tbody>
    </table>
    </details>
  <//>`;
}

function Legend() {
  const states = ['CREATED', 'DEPLOYING', 'INITIALIZING', 'RUNNING', 'FINISHED', 'CANCELED', 'FAILED'];
  return html`<div class="legend">
    ${states.map((state) => html`<span key=${state}><i style=${{ background: stateColor(state) }}></i>${state}</span>`)}
  </div>`;
}

function CancelButton({ jobId, state, onDone }) {
  const [phase, setPhase] = useState('idle');
  const [error, setError] = useState(null);
  if (isTerminalJobState(state)) return null;
  const cancel = async () => {
    setPhase('cancelling');
    try {
      await fetchJson(`/jobs/${encodeURIComponent(jobId)}?mode=cancel`, { method: 'PATCH' });
      setError(null);
    } catch (failure) {
      setError(failure.message);
    }
    setPhase('idle');
    onDone();
  };
  if (phase === 'confirm') {
    return html`<span class="confirm">
      Cancel this job?
      <button class="danger" data-testid="confirm-cancel" onClick=${cancel}>Yes, cancel</button>
      <button onClick=${() => setPhase('idle')}>No</button>
    </span>`;
  }
  return html`<span>
    <button class="danger" data-testid="cancel-job" disabled=${phase === 'cancelling'} onClick=${() => setPhase('confirm')}>
      ${phase === 'cancelling' ? 'Cancelling…' : 'Cancel job'}
    </button>
    ${error ? html`<span class="error-text">${error}</span>` : null}
  </span>`;
}

function CheckpointsPanel({ stats }) {
  if (!stats) return html`<${Panel} title="Checkpoints"><p class="muted">Loading…</p><//>`;
  const history = stats.history ?? [];
  return html`<${Panel} title="Checkpoints" id="checkpoints">
    <div class="stats compact">
      <${Stat} label="Completed" value=${stats.counts.completed} testid="checkpoints-completed" />
      <${Stat} label="Failed" value=${stats.counts.failed} testid="checkpoints-failed" />
      <${Stat} label="In progress" value=${stats.counts.in_progress} />
      <${Stat} label="Restored" value=${stats.counts.restored} />
      <${Stat}
        label="Latest duration"
        value=${formatDuration(stats.latest.completed?.end_to_end_duration)}
        detail=${stats.latest.completed ? `checkpoint #${stats.latest.completed.id}` : null}
      />
      <${Stat}
        small
        label="Duration min / avg / max"
        value=${
          stats.counts.completed > 0
            ? `${Math.round(stats.summary.end_to_end_duration.min)} / ${Math.round(stats.summary.end_to_end_duration.avg)} / ${Math.round(stats.summary.end_to_end_duration.max)} ms`
            : '–'
        }
      />
    </div>
    ${history.length > 0 ? html`<${DurationChart} history=${history} />` : null}
    ${
      history.length === 0
        ? html`<p class="muted">No checkpoint yet.</p>`
        : html`<table class="table checkpoints">
          <thead><tr><th>ID</th><th>Status</th><th>Triggered</th><th>Duration</th><th>Acknowledged</th><th>State size</th></tr></thead>
          <tbody>
            ${history.map(
              (cp) => html`<tr key=${cp.id} data-checkpoint-id=${cp.id}>
                <td>#${cp.id}</td>
                <td><${StateBadge} state=${cp.status} />${cp.failure_message ? html`<div class="error-text">${cp.failure_message}</div>` : null}</td>
                <td>${formatTime(cp.trigger_timestamp)}</td>
                <td>${formatDuration(cp.end_to_end_duration)}</td>
                <td>${cp.num_acknowledged_subtasks} / ${cp.num_subtasks}</td>
                <td>${formatBytes(cp.state_size)}</td>
              </tr>`,
            )}
          </tbody>
        </table>`
    }
  <//>`;
}

/** Checkpoint durations, oldest left, as bars. */
function DurationChart({ history }) {
  const items = [...history].reverse();
  const max = Math.max(1, ...items.map((cp) => cp.end_to_end_duration));
  const barWidth = 26;
  const height = 70;
  return html`<svg class="chart" width=${items.length * (barWidth + 6)} height=${height + 16} role="img" aria-label="checkpoint durations">
    ${items.map((cp, i) => {
      const h = Math.max(2, (cp.end_to_end_duration / max) * height);
      return html`<g key=${cp.id}>
        <rect x=${i * (barWidth + 6)} y=${height - h} width=${barWidth} height=${h} rx="3" fill=${stateColor(cp.status)}>
          <title>${`#${cp.id}: ${formatDuration(cp.end_to_end_duration)}`}</title>
        </rect>
        <text x=${i * (barWidth + 6) + barWidth / 2} y=${height + 12} text-anchor="middle" class="chart-label">${cp.id}</text>
      </g>`;
    })}
  </svg>`;
}

function ExceptionsPanel({ exceptions }) {
  const entries = exceptions?.exceptionHistory?.entries ?? [];
  return html`<${Panel} title=${`Exceptions${entries.length > 0 ? ` (${entries.length})` : ''}`} id="exceptions">
    ${
      !exceptions
        ? html`<p class="muted">Loading…</p>`
        : entries.length === 0 && !exceptions['root-exception']
          ? html`<p class="muted">No exceptions.</p>`
          : html`<div class="exceptions">
            ${entries.map(
              (entry, i) => html`<details key=${i} open=${i === 0}>
                <summary>
                  <span class="exception-name">${entry.exceptionName}</span>
                  <span class="muted">${formatTime(entry.timestamp)}${entry.taskName ? ` · ${entry.taskName}` : ''}${entry.taskManagerId ? ` · ${entry.taskManagerId}` : ''}</span>
                </summary>
                <pre>${entry.stacktrace}</pre>
              </details>`,
            )}
            ${entries.length === 0 ? html`<pre>${exceptions['root-exception']}</pre>` : null}
          </div>`
    }
  <//>`;
}

/** The job graph as inline SVG: vertices in columns by depth, each with one square per subtask coloured by state. */

import { html } from './components.js';
import { stateColor } from './format.js';

const BOX_WIDTH = 300;
const GAP_X = 70;
const GAP_Y = 24;
/** Subtask squares: big enough to hover for small jobs, smaller for wide ones so a vertex box stays compact. */
function squareLayout(parallelism) {
  return parallelism <= 96 ? { size: 14, gap: 4, perRow: 12 } : { size: 6, gap: 2, perRow: 27 };
}
const PADDING = 16;

/** Longest path from a source: a vertex sits one column right of its deepest input. */
function depths(nodes) {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const memo = new Map();
  const depthOf = (id, seen = new Set()) => {
    if (memo.has(id)) return memo.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const inputs = byId.get(id)?.inputs ?? [];
    const depth = inputs.length === 0 ? 0 : 1 + Math.max(...inputs.map((input) => depthOf(input.id, seen)));
    memo.set(id, depth);
    return depth;
  };
  for (const node of nodes) depthOf(node.id);
  return memo;
}

function boxHeight(parallelism) {
  const { size, gap, perRow } = squareLayout(parallelism);
  const rows = Math.max(1, Math.ceil(parallelism / perRow));
  return 58 + rows * (size + gap);
}

/** @param {{ job: any }} props a `/jobs/:id` answer */
export function JobGraph({ job }) {
  const nodes = job.plan?.nodes ?? [];
  if (nodes.length === 0) return html`<p class="muted">This job has no vertices.</p>`;
  const vertices = new Map((job.vertices ?? []).map((vertex) => [vertex.id, vertex]));
  const depth = depths(nodes);
  const columns = [];
  for (const node of nodes) {
    const column = depth.get(node.id) ?? 0;
    columns[column] ??= [];
    columns[column].push(node);
  }
  const layout = new Map();
  let height = 0;
  columns.forEach((column, index) => {
    let y = PADDING;
    for (const node of column ?? []) {
      const h = boxHeight(node.parallelism);
      layout.set(node.id, { x: PADDING + index * (BOX_WIDTH + GAP_X), y, h });
      y += h + GAP_Y;
    }
    height = Math.max(height, y - GAP_Y + PADDING);
  });
  const width = PADDING * 2 + columns.length * BOX_WIDTH + (columns.length - 1) * GAP_X;

  const edges = nodes.flatMap((node) =>
    (node.inputs ?? [])
      .filter((input) => layout.has(input.id))
      .map((input) => {
        const from = layout.get(input.id);
        const to = layout.get(node.id);
        const x1 = from.x + BOX_WIDTH;
        const y1 = from.y + from.h / 2;
        const x2 = to.x;
        const y2 = to.y + to.h / 2;
        const mid = (x1 + x2) / 2;
        return html`<path key=${`${input.id}->${node.id}`} class="edge" d=${`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 6},${y2}`} marker-end="url(#arrow)" />`;
      }),
  );

  return html`<svg class="graph" width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`} role="img" aria-label="job graph">
    <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M 0 0 L 10 5 L 0 10 z" fill="#94a3b8" />
      </marker>
    </defs>
    ${edges}
    ${nodes.map((node) => {
      const box = layout.get(node.id);
      const vertex = vertices.get(node.id);
      const status = vertex?.status ?? 'CREATED';
      const subtasks = vertex?.subtasks ?? [];
      const squares = squareLayout(node.parallelism);
      return html`<g key=${node.id} class="vertex" data-vertex-id=${node.id} transform=${`translate(${box.x},${box.y})`}>
        <rect width=${BOX_WIDTH} height=${box.h} rx="8" class="vertex-box" />
        <rect width="5" height=${box.h} rx="2" fill=${stateColor(status)} />
        <text x="16" y="22" class="vertex-name">${truncate(vertex?.name ?? node.description, 38)}</text>
        <text x="16" y="41" class="vertex-meta">parallelism ${node.parallelism} · <tspan fill=${stateColor(status)} font-weight="600">${status}</tspan></text>
        ${subtasks.map((subtask, i) => {
          const x = 16 + (i % squares.perRow) * (squares.size + squares.gap);
          const y = 52 + Math.floor(i / squares.perRow) * (squares.size + squares.gap);
          return html`<rect key=${i} x=${x} y=${y} width=${squares.size} height=${squares.size} rx="2" fill=${stateColor(subtask.status)} data-subtask-state=${subtask.status}>
            <title>${`subtask ${subtask.subtask}: ${subtask.status}, attempt ${subtask.attempt}${subtask['taskmanager-id'] ? ` on ${subtask['taskmanager-id']}` : ''}`}</title>
          </rect>`;
        })}
      </g>`;
    })}
  </svg>`;
}

function truncate(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

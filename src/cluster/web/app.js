/**
 * The flink-rpc dashboard: static ES modules with preact + htm, no build step. It polls the REST API at the interval
 * `/config` gives (Flink's `web.refresh-interval`), so it follows the cluster by itself: jobs, restarts, checkpoints,
 * task managers coming and going.
 */

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { fetchJson, usePoll } from './api.js';
import { ErrorBanner, html } from './components.js';
import { JobPage } from './job.js';
import { OverviewPage } from './overview.js';
import { TaskManagersPage } from './taskmanagers.js';

function useHashRoute() {
  const read = () => location.hash.replace(/^#/, '') || '/';
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function App({ config }) {
  const refreshMs = Math.max(200, config['refresh-interval'] ?? 3000);
  const route = useHashRoute();
  const overview = usePoll('/overview', refreshMs);
  const jobs = usePoll('/jobs/overview', refreshMs);
  const taskmanagers = usePoll('/taskmanagers', refreshMs);
  const [updated, setUpdated] = useState(null);
  useEffect(() => {
    if (overview.data) setUpdated(new Date());
  }, [overview.data]);

  const jobMatch = /^\/jobs\/([^/]+)$/.exec(route);
  let page;
  if (jobMatch)
    page = html`<${JobPage} key=${jobMatch[1]} jobId=${decodeURIComponent(jobMatch[1])} refreshMs=${refreshMs} />`;
  else if (route === '/taskmanagers')
    page = html`<${TaskManagersPage} taskmanagers=${taskmanagers.data?.taskmanagers} />`;
  else
    page = html`<${OverviewPage} overview=${overview.data} jobs=${jobs.data?.jobs} taskmanagers=${taskmanagers.data?.taskmanagers} />`;

  const tab = (href, label, active) => html`<a href=${href} class=${active ? 'tab active' : 'tab'}>${label}</a>`;
  return html`<div class="shell">
    <nav class="topbar">
      <div class="brand"><span class="logo">◆</span> flink-rpc</div>
      ${tab('#/', 'Overview', route === '/' || Boolean(jobMatch))}
      ${tab('#/taskmanagers', `Task managers${taskmanagers.data ? ` (${taskmanagers.data.taskmanagers.length})` : ''}`, route === '/taskmanagers')}
      <div class="live" title=${`refreshes every ${refreshMs} ms`}>
        <span class=${overview.error ? 'dot down' : 'dot'}></span>
        ${overview.error ? 'disconnected' : `live · ${updated ? updated.toLocaleTimeString([], { hour12: false }) : '…'}`}
      </div>
      <div class="version">${config['flink-version']}</div>
    </nav>
    <main>
      <${ErrorBanner} error=${overview.error} />
      ${page}
    </main>
  </div>`;
}

async function main() {
  const root = document.getElementById('app');
  let config;
  for (let attempt = 0; config === undefined; attempt++) {
    try {
      config = await fetchJson('/config');
    } catch (error) {
      root.textContent = `Waiting for the JobManager (${error.message})…`;
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** attempt)));
    }
  }
  root.textContent = '';
  render(html`<${App} config=${config} />`, root);
}

main();

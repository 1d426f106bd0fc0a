// Dashboard: GET /api/admin/summary, refreshed every 10 seconds.
import { html, useEffect, setTitle, Spinner } from '../js/ui.js';
import { api, useLoad, usePoll, ErrorText, startOfToday, fmtDate } from './lib.js';

function Stat({ label, value, href }) {
  return html`<div class="stat">
    <p class="stat-value">${value}</p>
    <p class="stat-label">${href ? html`<a href=${href}>${label}</a>` : label}</p>
  </div>`;
}

export default function Dashboard({ user }) {
  useEffect(() => setTitle('Dashboard'), []);
  const s = useLoad(() => api.get('/api/admin/summary', { auth: 'required', query: { since: startOfToday() } }), []);
  usePoll(s.reload, 10_000, [s.reload]);
  if (s.error && !s.data) return html`<h1>Dashboard</h1><${ErrorText} error=${s.error} />`;
  if (!s.data) return html`<h1>Dashboard</h1><${Spinner} label="Loading" />`;
  const { influence: inf, media, queues } = s.data;
  return html`<h1>Dashboard</h1>
    ${user.role !== 'SUPER_ADMIN' ? html`<p class="muted">Counts of the campaigns you created.</p>` : null}
    <section aria-labelledby="dash-campaigns">
      <h2 id="dash-campaigns">Campaigns</h2>
      <div class="stats">
        ${['ACTIVE', 'DRAFT', 'PAUSED', 'ARCHIVED'].map((st) => html`<${Stat} label=${st.toLowerCase()} value=${inf.campaigns[st]}
          href=${'/admin/campaigns?status=' + st} />`)}
      </div>
    </section>
    <section aria-labelledby="dash-emails">
      <h2 id="dash-emails">Emails today</h2>
      <div class="stats">
        <${Stat} label="queued" value=${inf.emails.queued} />
        <${Stat} label="sent" value=${inf.emails.sent} />
        <${Stat} label="failed" value=${inf.emails.failed} />
        <${Stat} label="responses awaiting moderation" value=${inf.responsesPending} href="/admin/responses" />
      </div>
    </section>
    <section aria-labelledby="dash-media">
      <h2 id="dash-media">Media</h2>
      <div class="stats">
        <${Stat} label="videos" value=${media.videos} href="/admin/media" />
        <${Stat} label="processing" value=${media.processing} />
        <${Stat} label="invalid" value=${media.invalid} />
        <${Stat} label="in the gallery" value=${media.published} />
      </div>
      <h3>Recent media jobs</h3>
      ${!media.jobsAvailable ? html`<p class="muted">The job queue cannot be read right now.</p>` : null}
      ${media.jobsAvailable && media.recentJobs.length === 0 ? html`<p class="muted">No media jobs.</p>` : null}
      ${media.recentJobs.length ? html`<div class="table-wrap"><table>
        <caption class="visually-hidden">Recent media jobs</caption>
        <thead><tr><th scope="col">Job</th><th scope="col">State</th><th scope="col">Video</th><th scope="col">When</th><th scope="col">Error</th></tr></thead>
        <tbody>${media.recentJobs.map((j) => html`<tr>
          <td>${j.type}</td><td><span class=${'state state-' + j.state}>${j.state}</span></td>
          <td>${j.videoId ? html`<a href=${'/admin/media/' + j.videoId}>#${j.videoId}</a>` : ''}</td>
          <td>${fmtDate(j.at)}</td><td class="error-text">${j.lastError}</td>
        </tr>`)}</tbody>
      </table></div>` : null}
      <p><a href="/admin/media/jobs">All media jobs</a></p>
    </section>
    ${queues ? html`<section aria-labelledby="dash-queues">
      <h2 id="dash-queues">Queues</h2>
      ${!queues.available ? html`<p class="muted">Redis cannot be read right now.</p>` : null}
      ${queues.available && queues.queues.length === 0 ? html`<p class="muted">No task has been queued yet.</p>` : null}
      ${queues.available && queues.queues.length > 0 ? html`<div class="table-wrap"><table>
        <caption class="visually-hidden">Queue sizes</caption>
        <thead><tr><th scope="col">Queue</th><th scope="col">Size</th><th scope="col">Pending</th><th scope="col">Active</th>
          <th scope="col">Retry</th><th scope="col">Archived</th><th scope="col">Processed today</th><th scope="col">Failed today</th></tr></thead>
        <tbody>${queues.queues.map((q) => html`<tr>
          <th scope="row">${q.name}${q.paused ? ' (paused)' : ''}</th><td>${q.size}</td><td>${q.pending}</td><td>${q.active}</td>
          <td>${q.retry}</td><td>${q.archived}</td><td>${q.processedToday}</td><td>${q.failedToday}</td>
        </tr>`)}</tbody>
      </table></div>` : null}
      <p><a href="/api/admin/queues" data-native>Open the queue dashboard</a></p>
    </section>` : null}`;
}

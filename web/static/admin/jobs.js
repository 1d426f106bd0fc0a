// Media jobs: the media queue's tasks by state, refreshed every 2 seconds
// while shown, with retry and cancel (SUPER_ADMIN, as the media API allows).
import { html, useEffect, useState, setTitle, Spinner } from '../js/ui.js';
import { api, useLoad, usePoll, ErrorText, Pager, fmtDate } from './lib.js';

const STATES = [
  ['active', 'Running'], ['pending', 'Waiting'], ['scheduled', 'Scheduled'], ['retry', 'Failed, to retry'],
  ['archived', 'Failed for good'], ['completed', 'Done'],
];

export default function Jobs({ user }) {
  useEffect(() => setTitle('Media jobs'), []);
  const [state, setState] = useState('active');
  const [page, setPage] = useState(1);
  const [err, setErr] = useState(null);
  const list = useLoad(() => api.get('/api/media/jobs', { auth: 'required', query: { state, page, limit: 20 } }), [state, page]);
  usePoll(list.reload, 2000, [list.reload]);
  const owner = user.role === 'SUPER_ADMIN';
  const act = async (j, what) => {
    setErr(null);
    try {
      await api.post(`/api/media/jobs/${j.id.replace(/[^A-Za-z0-9:._-]/g, encodeURIComponent)}/${what}`, undefined, { auth: 'required' });
      list.reload();
    } catch (x) {
      setErr(x);
    }
  };
  const counts = (list.data && list.data.counts) || {};
  return html`<h1>Media jobs</h1>
    <div class="tabs" role="group" aria-label="Job state">
      ${STATES.map(([s, label]) => html`<button type="button" aria-pressed=${String(s === state)}
        class=${s === state ? 'tab tab-active' : 'tab'} onClick=${() => { setState(s); setPage(1); }}>
        ${label} (${counts[s] ?? 0})</button>`)}
    </div>
    <${ErrorText} error=${err || list.error} />
    ${list.loading && !list.data ? html`<${Spinner} label="Loading" />` : null}
    ${list.data && list.data.data.length === 0 ? html`<p>No jobs in this state.</p>` : null}
    ${list.data && list.data.data.length ? html`<div class="table-wrap"><table>
      <caption class="visually-hidden">Media jobs</caption>
      <thead><tr><th scope="col">Job</th><th scope="col">Video</th><th scope="col">Tries</th><th scope="col">When</th>
        <th scope="col">Error</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>${list.data.data.map((j) => html`<tr>
        <td>${j.type}<br /><span class="muted">${j.id}</span></td>
        <td>${j.payload && j.payload.videoId ? html`<a href=${'/admin/media/' + j.payload.videoId}>#${j.payload.videoId}</a>` : ''}</td>
        <td>${j.retried} / ${j.maxRetry}</td>
        <td>${fmtDate(j.completedAt || j.lastFailedAt || j.nextProcessAt)}</td>
        <td class="error-text">${j.lastError || ''}</td>
        <td>${owner && ['retry', 'archived', 'scheduled'].includes(j.state) ? html`<button type="button" onClick=${() => act(j, 'retry')}>Retry</button>` : null}
          ${owner && ['active', 'pending', 'scheduled', 'retry'].includes(j.state) ? html`<button type="button" class="button-secondary" onClick=${() => act(j, 'cancel')}>Cancel</button>` : null}</td>
      </tr>`)}</tbody>
    </table></div>
    <${Pager} pagination=${list.data.pagination} onPage=${setPage} />` : null}`;
}

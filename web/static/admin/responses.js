// Responses: the moderation queue (approve, or reject with a reason), and
// links to each campaign's wall as the public sees it.
import { html, useEffect, useState, setTitle, Spinner } from '../js/ui.js';
import { api, useLoad, ErrorText, Pager, Select, Field, fmtDate } from './lib.js';

function ResponseItem({ r, campaign, onDone }) {
  const [rejecting, setRejecting] = useState(false);
  const [note, setNote] = useState('');
  const [err, setErr] = useState(null);
  const moderate = async (status) => {
    setErr(null);
    try {
      await api.patch('/api/responses/' + r.id, status === 'REJECTED' ? { status, note } : { status }, { auth: 'required' });
      onDone();
    } catch (x) {
      setErr(x);
    }
  };
  return html`<li class="card response-item">
    <p class="muted">${campaign ? campaign.title : 'Campaign ' + r.campaignId} · ${fmtDate(r.createdAt)} · ${r.responseType.replace('_', ' ').toLowerCase()}
      · <span class=${'state state-' + r.status.toLowerCase()}>${r.status}</span>${r.verifiedAt ? ' · verified' : ''}</p>
    <h3>${r.representativeName}${r.representativeTitle ? ', ' + r.representativeTitle : ''}</h3>
    <blockquote class="response-text">${r.responseText}</blockquote>
    ${r.comment ? html`<p><strong>Comment:</strong> ${r.comment}</p>` : null}
    <p class="muted">Posted by ${r.isAnonymous ? 'an anonymous submitter' : r.submitterName} (${r.submitterEmail})</p>
    ${r.moderationNote ? html`<p class="muted">Note: ${r.moderationNote}</p>` : null}
    <div class="form-actions">
      ${r.status !== 'APPROVED' ? html`<button type="button" onClick=${() => moderate('APPROVED')}>Approve</button>` : null}
      ${r.status !== 'REJECTED' && !rejecting ? html`<button type="button" class="button-secondary" onClick=${() => setRejecting(true)}>Reject…</button>` : null}
    </div>
    ${rejecting ? html`<form class="form-inline" onSubmit=${(e) => { e.preventDefault(); moderate('REJECTED'); }}>
      <${Field} id=${'reason-' + r.id} label="Reason (kept with the response, not shown publicly)" value=${note} onInput=${setNote} />
      <button type="submit" class="button-danger">Reject</button>
      <button type="button" class="button-secondary" onClick=${() => setRejecting(false)}>Cancel</button>
    </form>` : null}
    <${ErrorText} error=${err} />
  </li>`;
}

export default function Moderation({ query }) {
  useEffect(() => setTitle('Responses'), []);
  const [q, setQ] = useState({ status: 'PENDING', campaignId: query?.get('campaignId') || '', page: 1 });
  const camps = useLoad(() => api.get('/api/campaigns', { auth: 'required', query: { limit: 100 } }), []);
  const list = useLoad(() => api.get('/api/responses', { auth: 'required', query: { ...q, limit: 20 } }), [q.status, q.campaignId, q.page]);
  const byId = {};
  for (const c of (camps.data && camps.data.data) || []) byId[c.id] = c;
  const walls = Object.values(byId).filter((c) => c.showResponseWall && (c.status === 'ACTIVE' || c.status === 'PAUSED'));
  return html`<h1>Responses</h1>
    <div class="filters">
      <${Select} id="m-status" label="Show" value=${q.status} onInput=${(v) => setQ({ ...q, status: v, page: 1 })}
        options=${[{ value: 'PENDING', label: 'Awaiting moderation' }, { value: 'APPROVED', label: 'Approved' },
          { value: 'REJECTED', label: 'Rejected' }, { value: '', label: 'All' }]} />
      <${Select} id="m-campaign" label="Campaign" value=${q.campaignId} onInput=${(v) => setQ({ ...q, campaignId: v, page: 1 })}
        options=${[{ value: '', label: 'All campaigns' }, ...Object.values(byId).map((c) => ({ value: String(c.id), label: c.title }))]} />
    </div>
    <${ErrorText} error=${list.error} />
    ${list.loading && !list.data ? html`<${Spinner} label="Loading" />` : null}
    ${list.data && list.data.data.length === 0 ? html`<p>Nothing here.</p>` : null}
    ${list.data && list.data.data.length ? html`<ul class="plain-list">${list.data.data.map((r) => html`<${ResponseItem}
      key=${r.id + r.status} r=${r} campaign=${byId[r.campaignId]} onDone=${list.reload} />`)}</ul>
      <${Pager} pagination=${list.data.pagination} onPage=${(p) => setQ({ ...q, page: p })} />` : null}
    <section aria-labelledby="walls-h">
      <h2 id="walls-h">Walls as the public sees them</h2>
      ${walls.length ? html`<ul class="plain-list">${walls.map((c) => html`<li>
        <a href=${'/c/' + encodeURIComponent(c.slug) + '/responses'}>${c.title}</a></li>`)}</ul>`
        : html`<p class="muted">No published campaign shows a response wall.</p>`}
    </section>`;
}

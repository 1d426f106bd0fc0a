// Campaigns (INFLUENCE_ADMIN: their own; SUPER_ADMIN: all): the list with
// filters, and one campaign: every field and flag, publish / pause /
// archive, custom recipients, the email log with retry, and statistics.
import { html, useEffect, useState, setTitle, Spinner } from '../js/ui.js';
import { navigate } from '../js/router.js';
import { api, useLoad, ErrorText, Notice, Pager, Field, Select, fmtDate } from './lib.js';

const STATUSES = ['DRAFT', 'ACTIVE', 'PAUSED', 'ARCHIVED'];
const LEVELS = ['FEDERAL', 'PROVINCIAL', 'MUNICIPAL', 'SCHOOL_BOARD'];
const TEXTS = [
  ['title', 'Title', 'text'],
  ['slug', 'Address (slug)', 'text', 'The campaign is at /c/<slug>. Made from the title when left empty.'],
  ['description', 'Description', 'textarea'],
  ['callToAction', 'Call to action', 'text'],
  ['coverPhoto', 'Cover photo URL', 'url'],
  ['emailSubject', 'Email subject', 'text'],
  ['emailBody', 'Email body', 'textarea', 'Placeholders: {{senderName}}, {{senderEmail}}, {{postalCode}}, {{representativeName}}, {{representativeTitle}}, {{district}}, {{campaignTitle}}.'],
];
const FLAGS = [
  ['allowSmtpEmail', 'Send emails through our server'],
  ['allowMailtoLink', 'Offer a mailto: link'],
  ['collectUserInfo', 'Ask for the sender\'s name and email'],
  ['allowEmailEditing', 'Senders may edit the email'],
  ['allowCustomRecipients', 'Custom recipients (below) besides the representatives'],
  ['showEmailCount', 'Show the email count'],
  ['showCallCount', 'Show the call count'],
  ['showResponseWall', 'Show the response wall'],
  ['highlightCampaign', 'Highlight on the home page'],
];

export function Campaigns({ query }) {
  useEffect(() => setTitle('Campaigns'), []);
  const [q, setQ] = useState({ search: '', status: query?.get('status') || '', page: 1 });
  const [search, setSearch] = useState('');
  const list = useLoad(() => api.get('/api/campaigns', { auth: 'required', query: { ...q, limit: 20 } }), [q.search, q.status, q.page]);
  return html`<h1>Campaigns</h1>
    <p><a class="button" href="/admin/campaigns/new">New campaign</a></p>
    <form class="filters" role="search" onSubmit=${(e) => { e.preventDefault(); setQ({ ...q, search, page: 1 }); }}>
      <${Field} id="c-search" label="Search title or address" kind="search" value=${search} onInput=${setSearch} />
      <${Select} id="c-status" label="Status" value=${q.status} options=${[{ value: '', label: 'Any' }, ...STATUSES]}
        onInput=${(v) => setQ({ ...q, status: v, page: 1 })} />
      <div class="form-actions"><button type="submit">Search</button></div>
    </form>
    <${ErrorText} error=${list.error} />
    ${list.loading && !list.data ? html`<${Spinner} label="Loading" />` : null}
    ${list.data && list.data.data.length === 0 ? html`<p>No campaigns.</p>` : null}
    ${list.data && list.data.data.length ? html`<div class="table-wrap"><table>
      <caption class="visually-hidden">Campaigns</caption>
      <thead><tr><th scope="col">Title</th><th scope="col">Status</th><th scope="col">Emails</th><th scope="col">Calls</th><th scope="col">Updated</th></tr></thead>
      <tbody>${list.data.data.map((c) => html`<tr>
        <td><a href=${'/admin/campaigns/' + c.id}>${c.title}</a><br /><span class="muted">/c/${c.slug}</span></td>
        <td><span class=${'state state-' + c.status.toLowerCase()}>${c.status}</span></td>
        <td>${c.emailCount}</td><td>${c.callCount}</td><td>${fmtDate(c.updatedAt)}</td>
      </tr>`)}</tbody>
    </table></div>
    <${Pager} pagination=${list.data.pagination} onPage=${(p) => setQ({ ...q, page: p })} />` : null}`;
}

function CampaignForm({ initial, onSaved }) {
  const [f, setF] = useState(initial);
  const [err, setErr] = useState(null);
  const [notice, setNotice] = useState('');
  const isNew = !initial.id;
  const set = (k) => (v) => setF({ ...f, [k]: v });
  const toggleLevel = (l) => {
    const cur = f.targetGovernmentLevels || [];
    set('targetGovernmentLevels')(cur.includes(l) ? cur.filter((x) => x !== l) : [...cur, l]);
  };
  const save = async (e) => {
    e.preventDefault();
    setErr(null);
    setNotice('');
    const body = {};
    for (const [k] of TEXTS) if (isNew ? f[k] : f[k] !== initial[k]) body[k] = f[k];
    for (const [k] of FLAGS) if (isNew || f[k] !== initial[k]) body[k] = f[k];
    if (isNew || JSON.stringify(f.targetGovernmentLevels) !== JSON.stringify(initial.targetGovernmentLevels)) {
      body.targetGovernmentLevels = f.targetGovernmentLevels || [];
    }
    if (isNew && body.slug === '') delete body.slug;
    try {
      const r = isNew
        ? await api.post('/api/campaigns', body, { auth: 'required' })
        : await api.patch('/api/campaigns/' + initial.id, body, { auth: 'required' });
      setNotice('Saved.');
      onSaved(r.campaign);
    } catch (x) {
      setErr(x);
    }
  };
  const fe = err && err.fieldErrors ? err.fieldErrors() : {};
  return html`<form onSubmit=${save} class="panel">
    <h2>${isNew ? 'New campaign' : 'Content and options'}</h2>
    ${TEXTS.map(([k, label, kind, hint]) => html`<${Field} id=${'cf-' + k} label=${label} kind=${kind} hint=${hint}
      value=${f[k]} onInput=${set(k)} error=${fe[k]} required=${k === 'title'} />`)}
    <fieldset>
      <legend>Government levels (none: all)</legend>
      ${LEVELS.map((l) => html`<${Field} id=${'cf-level-' + l} kind="checkbox" label=${l.replace('_', ' ').toLowerCase()}
        value=${(f.targetGovernmentLevels || []).includes(l)} onInput=${() => toggleLevel(l)} />`)}
    </fieldset>
    <fieldset>
      <legend>Options</legend>
      ${FLAGS.map(([k, label]) => html`<${Field} id=${'cf-' + k} kind="checkbox" label=${label} value=${f[k]} onInput=${set(k)} />`)}
    </fieldset>
    <div class="form-actions"><button type="submit">${isNew ? 'Create campaign' : 'Save'}</button></div>
    <div aria-live="polite">${notice ? html`<${Notice}>${notice}</${Notice}>` : null}</div>
    <${ErrorText} error=${err} />
  </form>`;
}

function StatusActions({ c, onSaved }) {
  const [err, setErr] = useState(null);
  const to = async (status) => {
    setErr(null);
    try {
      onSaved((await api.patch('/api/campaigns/' + c.id, { status }, { auth: 'required' })).campaign);
    } catch (x) {
      setErr(x);
    }
  };
  const del = async () => {
    if (!window.confirm(`Delete the campaign "${c.title}" and its emails? This cannot be undone.`)) return;
    try {
      await api.del('/api/campaigns/' + c.id, { auth: 'required' });
      navigate('/admin/campaigns');
    } catch (x) {
      setErr(x);
    }
  };
  return html`<div class="panel">
    <p>Status: <span class=${'state state-' + c.status.toLowerCase()}>${c.status}</span>
      ${c.status === 'ACTIVE' || c.status === 'PAUSED' ? html` · <a href=${'/c/' + encodeURIComponent(c.slug)}>view the public page</a>` : null}</p>
    <div class="form-actions">
      ${c.status !== 'ACTIVE' ? html`<button type="button" onClick=${() => to('ACTIVE')}>Publish</button>` : null}
      ${c.status === 'ACTIVE' ? html`<button type="button" class="button-secondary" onClick=${() => to('PAUSED')}>Pause</button>` : null}
      ${c.status !== 'ARCHIVED' ? html`<button type="button" class="button-secondary" onClick=${() => to('ARCHIVED')}>Archive</button>` : null}
      ${c.status !== 'DRAFT' ? html`<button type="button" class="button-secondary" onClick=${() => to('DRAFT')}>Back to draft</button>` : null}
      <button type="button" class="button-danger" onClick=${del}>Delete</button>
    </div>
    <${ErrorText} error=${err} />
  </div>`;
}

function Recipients({ c }) {
  const list = useLoad(() => api.get(`/api/campaigns/${c.id}/recipients`, { auth: 'required' }), [c.id]);
  const [f, setF] = useState({ name: '', title: '', email: '' });
  const [err, setErr] = useState(null);
  const add = async (e) => {
    e.preventDefault();
    setErr(null);
    try {
      await api.post(`/api/campaigns/${c.id}/recipients`, f, { auth: 'required' });
      setF({ name: '', title: '', email: '' });
      list.reload();
    } catch (x) {
      setErr(x);
    }
  };
  const remove = async (r) => {
    try {
      await api.del(`/api/campaigns/${c.id}/recipients/${r.id}`, { auth: 'required' });
      list.reload();
    } catch (x) {
      setErr(x);
    }
  };
  const fe = err && err.fieldErrors ? err.fieldErrors() : {};
  return html`<section class="panel" aria-labelledby="rec-h">
    <h2 id="rec-h">Custom recipients</h2>
    ${!c.allowCustomRecipients ? html`<p class="muted">Switch on "Custom recipients" above to offer these to senders.</p>` : null}
    ${list.data && list.data.data.length ? html`<ul class="plain-list">${list.data.data.map((r) => html`<li>
      ${r.name}${r.title ? ' (' + r.title + ')' : ''} — ${r.email}
      <button type="button" class="button-link" onClick=${() => remove(r)} aria-label=${'Remove ' + r.name}>Remove</button>
    </li>`)}</ul>` : html`<p>None.</p>`}
    <form onSubmit=${add} class="form-inline">
      <${Field} id="r-name" label="Name" value=${f.name} onInput=${(v) => setF({ ...f, name: v })} error=${fe.name} required />
      <${Field} id="r-title" label="Title" value=${f.title} onInput=${(v) => setF({ ...f, title: v })} error=${fe.title} />
      <${Field} id="r-email" label="Email" kind="email" value=${f.email} onInput=${(v) => setF({ ...f, email: v })} error=${fe.email} required />
      <button type="submit">Add recipient</button>
    </form>
    <${ErrorText} error=${err || list.error} />
  </section>`;
}

function Stats({ c }) {
  const emails = useLoad(() => api.get(`/api/campaigns/${c.id}/emails/stats`, { auth: 'required' }), [c.id]);
  const calls = useLoad(() => api.get(`/api/campaigns/${c.id}/calls/stats`, { auth: 'required' }), [c.id]);
  const es = emails.data && emails.data.stats;
  const cs = calls.data && calls.data.stats;
  return html`<section class="panel" aria-labelledby="stats-h">
    <h2 id="stats-h">Statistics</h2>
    ${es ? html`<p>${`Emails: ${es.total} in all — ${Object.entries(es.byStatus).map(([k, v]) => `${k.toLowerCase()} ${v}`).join(', ')}; by method: ${Object.entries(es.byMethod).map(([k, v]) => `${k.toLowerCase()} ${v}`).join(', ')}.`}</p>` : null}
    ${cs ? html`<p>Calls: ${cs.total}.</p>
      ${cs.byRecipient.length ? html`<ul class="plain-list">${cs.byRecipient.map((r) => html`<li>${r.recipientName}${r.recipientTitle ? ' (' + r.recipientTitle + ')' : ''}: ${r.calls}</li>`)}</ul>` : null}` : null}
    <${ErrorText} error=${emails.error || calls.error} />
  </section>`;
}

function EmailLog({ c }) {
  const [q, setQ] = useState({ status: '', page: 1 });
  const list = useLoad(() => api.get(`/api/campaigns/${c.id}/emails`, { auth: 'required', query: { ...q, limit: 20 } }), [c.id, q.status, q.page]);
  const [err, setErr] = useState(null);
  const retry = async (e) => {
    setErr(null);
    try {
      await api.post(`/api/campaigns/${c.id}/emails/${e.id}/retry`, undefined, { auth: 'required' });
      list.reload();
    } catch (x) {
      setErr(x);
    }
  };
  return html`<section class="panel" aria-labelledby="log-h">
    <h2 id="log-h">Email log</h2>
    <${Select} id="log-status" label="Status" value=${q.status}
      options=${[{ value: '', label: 'Any' }, 'QUEUED', 'SENT', 'FAILED', 'CLICKED']} onInput=${(v) => setQ({ status: v, page: 1 })} />
    <${ErrorText} error=${err || list.error} />
    ${list.data && list.data.data.length === 0 ? html`<p>No emails.</p>` : null}
    ${list.data && list.data.data.length ? html`<div class="table-wrap"><table>
      <caption class="visually-hidden">Emails of this campaign</caption>
      <thead><tr><th scope="col">When</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Status</th>
        <th scope="col">Error</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>${list.data.data.map((e) => html`<tr>
        <td>${fmtDate(e.createdAt)}</td>
        <td>${e.senderName}<br /><span class="muted">${e.senderEmail}</span></td>
        <td>${e.recipientName}<br /><span class="muted">${e.recipientEmail}</span></td>
        <td><span class=${'state state-' + e.status.toLowerCase()}>${e.status}</span> <span class="muted">${e.method}, ${e.attempts} tries</span></td>
        <td class="error-text">${e.lastError}</td>
        <td>${e.status === 'FAILED' && e.method === 'SMTP' ? html`<button type="button" class="button-secondary" onClick=${() => retry(e)}>Retry</button>` : null}</td>
      </tr>`)}</tbody>
    </table></div>
    <${Pager} pagination=${list.data.pagination} onPage=${(p) => setQ({ ...q, page: p })} />` : null}
  </section>`;
}

const BLANK = {
  title: '', slug: '', description: '', callToAction: '', coverPhoto: '', emailSubject: '', emailBody: '',
  targetGovernmentLevels: [], allowSmtpEmail: true, allowMailtoLink: false, collectUserInfo: true,
  allowEmailEditing: false, allowCustomRecipients: false, showEmailCount: true, showCallCount: false,
  showResponseWall: false, highlightCampaign: false,
};

export function CampaignEdit({ arg }) {
  const isNew = arg === 'new';
  const [c, setC] = useState(isNew ? BLANK : null);
  const [err, setErr] = useState(null);
  useEffect(() => {
    setTitle(isNew ? 'New campaign' : 'Campaign');
    if (!isNew) api.get('/api/campaigns/' + arg, { auth: 'required' }).then((r) => setC(r.campaign), setErr);
  }, [arg]);
  if (err) return html`<h1>Campaign</h1><${ErrorText} error=${err} />`;
  if (!c) return html`<h1>Campaign</h1><${Spinner} label="Loading" />`;
  const saved = (camp) => {
    if (isNew) navigate('/admin/campaigns/' + camp.id, { replace: true });
    else setC(camp);
  };
  return html`<p><a href="/admin/campaigns">← Campaigns</a></p>
    <h1>${isNew ? 'New campaign' : c.title}</h1>
    ${!isNew ? html`<${StatusActions} c=${c} onSaved=${setC} />` : null}
    <${CampaignForm} key=${c.updatedAt || 'new'} initial=${c} onSaved=${saved} />
    ${!isNew ? html`<${Recipients} c=${c} /><${Stats} c=${c} /><${EmailLog} c=${c} />
      <p><a href=${'/admin/responses?campaignId=' + c.id}>Responses to this campaign</a></p>` : null}`;
}

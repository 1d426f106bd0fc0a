// The response wall: approved responses with upvotes, three orders, more
// on demand; and the form to post a reply a representative sent.
import { html, useEffect, useState, setTitle, Spinner, Alert, classes } from '../ui.js';
import { t, formatDate, formatNumber } from '../i18n.js';
import { api } from '../api.js';
import { useCampaign, CampaignMissing, errorText } from './campaign.js';

const SORTS = ['recent', 'upvotes', 'verified'];
const TYPES = ['EMAIL', 'LETTER', 'PHONE_CALL', 'MEETING', 'SOCIAL_MEDIA', 'OTHER'];
const LEVELS = ['FEDERAL', 'PROVINCIAL', 'MUNICIPAL', 'SCHOOL_BOARD'];

function ResponseCard({ r }) {
  const [votes, setVotes] = useState({ count: r.upvoteCount, note: '' });
  const upvote = async () => {
    try {
      const d = await api.post(`/api/public/responses/${r.id}/upvote`);
      setVotes({ count: d.upvoteCount, note: d.alreadyUpvoted ? t('wall.alreadyUpvoted') : t('wall.upvoted'), done: true });
    } catch (err) {
      setVotes({ ...votes, note: errorText(err) });
    }
  };
  const who = r.isAnonymous || !r.submitterName ? t('wall.anonymous') : r.submitterName;
  return html`<li class="card response-card">
    <div class="response-head">
      <h2 class="response-rep">${r.representativeName}</h2>
      <p class="muted">${[r.representativeTitle, r.representativeLevel && t('level.' + r.representativeLevel)].filter(Boolean).join(' · ')}</p>
      <p class="muted">${t('type.' + r.responseType)} · ${formatDate(r.createdAt)}
        ${r.isVerified ? html` · <span class="badge badge-ok">${t('wall.verified')}</span>` : null}</p>
    </div>
    <blockquote class="response-text prewrap">${r.responseText}</blockquote>
    ${r.comment ? html`<p class="prewrap"><span class="muted">${t('wall.comment', { name: who })}</span> ${r.comment}</p>` : html`<p class="muted">${t('wall.postedBy', { name: who })}</p>`}
    <div class="inline">
      <button type="button" class=${classes('button', 'button-secondary', votes.done && 'button-done')} onClick=${upvote}>
        <span aria-hidden="true">▲ </span>${t('wall.upvote', { n: formatNumber(votes.count) })}</button>
      ${votes.note ? html`<span role="status" class="muted">${votes.note}</span>` : null}
    </div>
  </li>`;
}

function Wall({ campaign }) {
  const [sort, setSort] = useState('recent');
  const [state, setState] = useState({ loading: true, list: [], page: 0, totalPages: 0 });
  const load = (page, s = sort, prev = []) => {
    setState({ ...state, loading: true, list: prev });
    api.get(`/api/public/campaigns/${encodeURIComponent(campaign.slug)}/responses`, { query: { sort: s, page, limit: 20 } })
      .then((d) => setState({ list: [...prev, ...d.data], page, totalPages: d.pagination.totalPages, total: d.pagination.total }),
        (err) => setState({ list: prev, error: err }));
  };
  useEffect(() => load(1), []);
  return html`<section aria-labelledby="wall-h">
    <h2 id="wall-h">${t('wall.heading')}</h2>
    <div class="field field-inline">
      <label for="wall-sort">${t('wall.sort')}</label>
      <select id="wall-sort" value=${sort} onChange=${(e) => { setSort(e.target.value); load(1, e.target.value); }}>
        ${SORTS.map((s) => html`<option value=${s}>${t('wall.sort.' + s)}</option>`)}
      </select>
    </div>
    ${state.error ? html`<${Alert}>${errorText(state.error)}</${Alert}>` : null}
    ${!state.loading && !state.error && state.list.length === 0 ? html`<p>${t('wall.none')}</p>` : null}
    <ul class="response-list">${state.list.map((r) => html`<${ResponseCard} key=${r.id} r=${r} />`)}</ul>
    ${state.loading ? html`<${Spinner} label=${t('loading')} />` : null}
    ${!state.loading && state.page < state.totalPages ? html`<button type="button" class="button button-secondary"
      onClick=${() => load(state.page + 1, sort, state.list)}>${t('wall.more')}</button>` : null}
  </section>`;
}

const EMPTY = {
  representativeName: '', representativeTitle: '', representativeLevel: '', responseType: 'EMAIL',
  responseText: '', comment: '', submitterName: '', submitterEmail: '', isAnonymous: false,
};

function SubmitForm({ campaign }) {
  const [form, setForm] = useState(EMPTY);
  const [state, setState] = useState({ state: 'idle' });
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const errs = state.error ? state.error.fieldErrors() : {};
  const submit = async (e) => {
    e.preventDefault();
    setState({ state: 'sending' });
    const body = { ...form };
    if (!body.representativeLevel) delete body.representativeLevel;
    try {
      const d = await api.post(`/api/public/campaigns/${encodeURIComponent(campaign.slug)}/responses`, body);
      setState({ state: 'done', verification: d.verificationEmail });
      setForm(EMPTY);
    } catch (err) {
      setState({ state: 'error', error: err });
    }
  };
  const input = (k, label, attrs = {}) => html`<div class=${classes('field', errs[k] && 'field-invalid')}>
      <label for=${'rf-' + k}>${label}</label>
      <input id=${'rf-' + k} value=${form[k]} onInput=${set(k)} aria-invalid=${errs[k] ? 'true' : undefined}
        aria-describedby=${errs[k] ? 'rf-' + k + '-error' : undefined} ...${attrs} />
      ${errs[k] ? html`<p class="field-error" id=${'rf-' + k + '-error'}>${errs[k]}</p>` : null}
    </div>`;
  return html`<section class="submit-response" aria-labelledby="submit-h">
    <h2 id="submit-h">${t('submit.heading')}</h2>
    <p>${t('submit.intro')}</p>
    ${state.state === 'done' ? html`<div class="alert alert-success" role="status">
      ${state.verification ? t('submit.doneVerify') : t('submit.done')}</div>` : null}
    <form onSubmit=${submit} novalidate>
      ${input('representativeName', t('submit.repName'), { required: true, autocomplete: 'off' })}
      ${input('representativeTitle', t('submit.repTitle'), { autocomplete: 'off' })}
      <div class="field">
        <label for="rf-representativeLevel">${t('submit.level')}</label>
        <select id="rf-representativeLevel" value=${form.representativeLevel} onChange=${set('representativeLevel')}>
          <option value="">${t('submit.levelNone')}</option>
          ${LEVELS.map((l) => html`<option value=${l}>${t('level.' + l)}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="rf-responseType">${t('submit.type')}</label>
        <select id="rf-responseType" value=${form.responseType} onChange=${set('responseType')}>
          ${TYPES.map((x) => html`<option value=${x}>${t('type.' + x)}</option>`)}
        </select>
      </div>
      <div class=${classes('field', errs.responseText && 'field-invalid')}>
        <label for="rf-responseText">${t('submit.text')}</label>
        <textarea id="rf-responseText" rows="8" required value=${form.responseText} onInput=${set('responseText')}
          aria-invalid=${errs.responseText ? 'true' : undefined} aria-describedby=${errs.responseText ? 'rf-responseText-error' : undefined}></textarea>
        ${errs.responseText ? html`<p class="field-error" id="rf-responseText-error">${errs.responseText}</p>` : null}
      </div>
      <div class="field">
        <label for="rf-comment">${t('submit.comment')}</label>
        <textarea id="rf-comment" rows="3" value=${form.comment} onInput=${set('comment')}></textarea>
      </div>
      ${input('submitterName', t('submit.name'), { autocomplete: 'name' })}
      ${input('submitterEmail', t('submit.email'), { type: 'email', autocomplete: 'email', 'aria-describedby': 'rf-email-hint' })}
      <p class="hint" id="rf-email-hint">${t('submit.emailHint')}</p>
      <div class="check">
        <input type="checkbox" id="rf-isAnonymous" checked=${form.isAnonymous} onChange=${set('isAnonymous')} />
        <label for="rf-isAnonymous">${t('submit.anonymous')}</label>
      </div>
      ${state.state === 'error' ? html`<${Alert}>${errorText(state.error)}</${Alert}>` : null}
      <button type="submit" class="button" disabled=${state.state === 'sending'}>${t('submit.submit')}</button>
    </form>
  </section>`;
}

export default function Responses({ params }) {
  const { campaign, error, loading } = useCampaign(params.slug);
  useEffect(() => { if (campaign) setTitle(t('wall.title', { title: campaign.title })); }, [campaign]);
  if (loading) return html`<${Spinner} label=${t('loading')} />`;
  if (error) return html`<${CampaignMissing} error=${error} />`;
  if (!campaign.showResponseWall) {
    return html`<h1>${campaign.title}</h1><p>${t('wall.off')}</p>
      <p><a href=${'/c/' + encodeURIComponent(campaign.slug)}>${t('wall.back')}</a></p>`;
  }
  return html`<div class="responses">
    <p class="breadcrumb"><a href=${'/c/' + encodeURIComponent(campaign.slug)}>${t('wall.back')}</a></p>
    <h1>${t('wall.title', { title: campaign.title })}</h1>
    <${Wall} campaign=${campaign} />
    <${SubmitForm} campaign=${campaign} />
  </div>`;
}

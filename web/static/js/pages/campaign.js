// The campaign page: title, text, image; postal code → representatives
// (a 202 from the lookup is a short wait, polled, not an error); choose
// recipients; the email prefilled from the campaign's template (editable
// when the campaign allows it); name and email; send (queued, shown as
// sent) or open it in one's own mail program (mailto); call buttons that
// record the call; share links.
import { html, useEffect, useState, useRef, setTitle, safeUrl, Spinner, Alert, classes } from '../ui.js';
import { t, formatNumber } from '../i18n.js';
import { api, request, untilReady } from '../api.js';

// initialCampaign is the campaign the server put in the page (no second
// request on first load), when it is the one asked for.
export function initialCampaign(slug) {
  const el = document.getElementById('cm-campaign');
  if (!el) return null;
  try {
    const c = JSON.parse(el.textContent).campaign;
    return c && c.slug === slug ? c : null;
  } catch (_) {
    return null;
  }
}

// useCampaign loads the public campaign slug: {campaign, error}.
export function useCampaign(slug) {
  const [state, setState] = useState(() => {
    const c = initialCampaign(slug);
    return c ? { campaign: c } : { loading: true };
  });
  useEffect(() => {
    if (state.campaign) return;
    api.get('/api/public/campaigns/' + encodeURIComponent(slug))
      .then((d) => setState({ campaign: d.campaign }), (err) => setState({ error: err }));
  }, [slug]);
  return state;
}

// errorText is what a visitor reads for an API error.
export function errorText(err) {
  switch (err.code) {
    case 'network': return t('error.network');
    case 'rate_limited': return t('error.rateLimited');
    case 'unavailable': return t('error.unavailable');
    case 'feature_disabled': return t('home.disabled');
    case 'validation_failed': return t('error.validation');
    default: return err.message || t('error.generic');
  }
}

export function CampaignMissing({ error }) {
  if (error.status === 404) {
    return html`<h1>${t('campaign.notFound')}</h1><p><a href="/">${t('nav.allCampaigns')}</a></p>`;
  }
  return html`<${Alert}>${errorText(error)}</${Alert}>`;
}

function recipientKey(r) {
  return r.kind === 'custom' ? 'c' + r.id : 'r' + r.id;
}

function recipientRef(r) {
  return r.kind === 'custom' ? { customRecipientId: r.id } : { representativeId: r.id };
}

function Field({ id, label, error, hint, children }) {
  return html`<div class=${classes('field', error && 'field-invalid')}>
    <label for=${id}>${label}</label>
    ${hint ? html`<p class="hint" id=${id + '-hint'}>${hint}</p>` : null}
    ${children}
    ${error ? html`<p class="field-error" id=${id + '-error'}>${error}</p>` : null}
  </div>`;
}

function describedBy(id, error, hint) {
  return [hint && id + '-hint', error && id + '-error'].filter(Boolean).join(' ') || undefined;
}

function officeName(type) {
  const k = 'office.' + (type || 'other');
  const s = t(k);
  return s === k ? type : s;
}

function CallButtons({ rep, campaign, postalCode }) {
  const [recorded, setRecorded] = useState(false);
  const phones = (rep.offices || []).filter((o) => o.tel);
  if (phones.length === 0) return null;
  const record = () => {
    request('POST', `/api/public/campaigns/${encodeURIComponent(campaign.slug)}/call`, {
      body: { postalCode, recipient: { representativeId: rep.id } },
      headers: { 'Idempotency-Key': crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random() },
      keepalive: true,
    }).then(() => setRecorded(true), () => {});
  };
  return html`<div class="calls">
    ${phones.map((o) => html`<a class="button button-secondary" href=${'tel:' + o.tel.replace(/[^0-9+]/g, '')}
      onClick=${record} data-native>${t('rep.call', { office: officeName(o.type), tel: o.tel })}</a>`)}
    ${recorded ? html`<p class="muted" role="status">${t('rep.callRecorded')}</p>` : null}
  </div>`;
}

function RecipientCard({ r, checked, onToggle, campaign, postalCode, canEmail }) {
  const photo = safeUrl(r.photoUrl);
  const id = 'rcp-' + recipientKey(r);
  const disabled = canEmail && !r.email && r.kind !== 'custom';
  return html`<li class="card rep-card">
    <div class="rep-head">
      ${photo ? html`<img class="rep-photo" src=${photo} alt="" width="64" height="64" loading="lazy" />`
        : html`<span class="rep-photo rep-photo-empty" aria-hidden="true"></span>`}
      <div>
        <h3 class="rep-name">${r.name}</h3>
        <p class="rep-office">${[r.electedOffice || r.title, r.districtName].filter(Boolean).join(' · ')}</p>
        ${r.partyName ? html`<p class="muted">${r.partyName}</p>` : null}
      </div>
    </div>
    ${canEmail ? html`<div class="check">
      <input type="checkbox" id=${id} checked=${checked} disabled=${disabled} onChange=${onToggle} />
      <label for=${id}>${disabled ? t('rep.noEmail') : t('rep.writeTo', { name: r.name })}</label>
    </div>` : null}
    ${r.kind === 'rep' ? html`<${CallButtons} rep=${r} campaign=${campaign} postalCode=${postalCode} />` : null}
  </li>`;
}

function Share({ campaign }) {
  const [copied, setCopied] = useState(false);
  const url = location.origin + '/c/' + encodeURIComponent(campaign.slug);
  const text = campaign.title;
  const e = encodeURIComponent;
  const copy = () => {
    if (navigator.clipboard) navigator.clipboard.writeText(url).then(() => setCopied(true), () => {});
  };
  return html`<section class="share" aria-labelledby="share-h">
    <h2 id="share-h">${t('share.heading')}</h2>
    <ul class="share-list">
      <li><a class="button button-secondary" target="_blank" rel="noopener noreferrer"
        href=${`https://twitter.com/intent/tweet?text=${e(text)}&url=${e(url)}`}>${t('share.x')}</a></li>
      <li><a class="button button-secondary" target="_blank" rel="noopener noreferrer"
        href=${`https://www.facebook.com/sharer/sharer.php?u=${e(url)}`}>${t('share.facebook')}</a></li>
      <li><a class="button button-secondary" data-native
        href=${`mailto:?subject=${e(text)}&body=${e(url)}`}>${t('share.email')}</a></li>
      <li><button type="button" class="button button-secondary" onClick=${copy}>${t('share.copy')}</button></li>
    </ul>
    ${copied ? html`<p role="status">${t('share.copied')}</p>` : null}
  </section>`;
}

export default function Campaign({ params }) {
  const { campaign, error, loading } = useCampaign(params.slug);
  useEffect(() => { if (campaign) setTitle(campaign.title); }, [campaign]);
  if (loading) return html`<${Spinner} label=${t('loading')} />`;
  if (error) return html`<${CampaignMissing} error=${error} />`;
  const cover = safeUrl(campaign.coverPhoto);
  return html`<article class="campaign">
    ${cover ? html`<img class="cover" src=${cover} alt="" />` : null}
    <h1>${campaign.title}</h1>
    ${campaign.status === 'PAUSED' ? html`<p class="badge">${t('campaign.paused')}</p>` : null}
    <p class="lede prewrap">${campaign.description}</p>
    ${campaign.callToAction ? html`<p class="cta">${campaign.callToAction}</p>` : null}
    <p class="counts muted">
      ${campaign.emailCount !== undefined ? html`<span>${t('campaign.emailCount', { n: formatNumber(campaign.emailCount) })}</span> ` : null}
      ${campaign.callCount !== undefined ? html`<span>${t('campaign.callCount', { n: formatNumber(campaign.callCount) })}</span>` : null}
    </p>
    ${campaign.status === 'ACTIVE' ? html`<${Act} campaign=${campaign} />` : html`<p>${t('campaign.pausedText')}</p>`}
    ${campaign.showResponseWall ? html`<p><a class="button button-secondary" href=${'/c/' + encodeURIComponent(campaign.slug) + '/responses'}>${t('campaign.seeResponses')}</a></p>` : null}
    <${Share} campaign=${campaign} />
  </article>`;
}

function Act({ campaign }) {
  const [postal, setPostal] = useState('');
  const [lookup, setLookup] = useState({ state: 'idle' });
  const [reps, setReps] = useState(null);
  const [selected, setSelected] = useState({});
  const [form, setForm] = useState({ name: '', email: '', subject: campaign.emailSubject, body: campaign.emailBody });
  const [send, setSend] = useState({ state: 'idle' });
  const result = useRef(null);
  const canEmail = campaign.allowSmtpEmail || campaign.allowMailtoLink;
  const custom = (campaign.allowCustomRecipients ? campaign.customRecipients : [])
    .map((c) => ({ ...c, kind: 'custom' }));
  const recipients = [...(reps || []).map((r) => ({ ...r, kind: 'rep' })), ...custom];

  const findReps = async (e) => {
    e.preventDefault();
    setLookup({ state: 'looking' });
    setSend({ state: 'idle' });
    try {
      const r = await untilReady(() => request('POST', '/api/public/representatives/lookup', {
        body: { postalCode: postal, campaign: campaign.slug },
      }), { onPending: () => setLookup({ state: 'waiting' }), timeoutMs: 120_000 });
      const list = r.data.representatives;
      setReps(list);
      const sel = {};
      for (const x of list) if (x.email) sel['r' + x.id] = true;
      setSelected(sel);
      setPostal(r.data.postalCode.code.replace(/^(...)(...)$/, '$1 $2'));
      setLookup({ state: 'done' });
    } catch (err) {
      let msg = errorText(err);
      if (err.code === 'validation_failed') msg = t('lookup.invalid');
      else if (err.status === 404) msg = t('lookup.unknown');
      else if (err.code === 'timeout') msg = t('lookup.timeout');
      setLookup({ state: 'error', message: msg });
    }
  };

  const chosen = recipients.filter((r) => selected[recipientKey(r)]);
  const fieldErrors = send.error ? send.error.fieldErrors() : {};
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });

  const sendEmail = async (e) => {
    e.preventDefault();
    if (chosen.length === 0) {
      setSend({ state: 'error', message: t('send.chooseOne') });
      return;
    }
    setSend({ state: 'sending' });
    const body = {
      senderName: form.name, senderEmail: form.email, postalCode: postal,
      recipients: chosen.map(recipientRef),
    };
    if (campaign.allowEmailEditing) {
      body.subject = form.subject;
      body.body = form.body;
    }
    try {
      const d = await api.post(`/api/public/campaigns/${encodeURIComponent(campaign.slug)}/send-email`, body);
      setSend({ state: 'sent', emails: d.emails });
      setTimeout(() => result.current?.focus(), 0);
    } catch (err) {
      setSend({ state: 'error', error: err, message: errorText(err) });
    }
  };

  const openMailto = async (r) => {
    try {
      const d = await api.post(`/api/public/campaigns/${encodeURIComponent(campaign.slug)}/mailto`, {
        senderName: form.name, senderEmail: form.email, postalCode: r.kind === 'custom' ? undefined : postal,
        recipient: recipientRef(r),
      });
      location.href = d.mailto;
    } catch (err) {
      setSend({ state: 'error', error: err, message: errorText(err) });
    }
  };

  return html`<section class="act" aria-labelledby="act-h">
    <h2 id="act-h">${t('campaign.act')}</h2>
    <form class="postal-form" onSubmit=${findReps} novalidate>
      <${Field} id="postal-code" label=${t('lookup.label')} hint=${t('lookup.hint')}>
        <div class="inline">
          <input id="postal-code" name="postalCode" autocomplete="postal-code" inputmode="text" maxlength="7"
            required aria-describedby="postal-code-hint" value=${postal} onInput=${(e) => setPostal(e.target.value)} />
          <button type="submit" class="button" disabled=${lookup.state === 'looking' || lookup.state === 'waiting'}>${t('lookup.submit')}</button>
        </div>
      </${Field}>
    </form>
    ${lookup.state === 'looking' ? html`<${Spinner} label=${t('lookup.looking')} />` : null}
    ${lookup.state === 'waiting' ? html`<${Spinner} label=${t('lookup.waiting')} />` : null}
    ${lookup.state === 'error' ? html`<${Alert}>${lookup.message}</${Alert}>` : null}
    ${recipients.length > 0 ? html`
      <h3 class="section-title">${reps ? t('rep.heading', { n: recipients.length }) : t('rep.customHeading')}</h3>
      ${reps && reps.length === 0 ? html`<p>${t('lookup.none')}</p>` : null}
      <ul class="rep-list">
        ${recipients.map((r) => html`<${RecipientCard} key=${recipientKey(r)} r=${r} campaign=${campaign} postalCode=${postal}
          canEmail=${canEmail} checked=${Boolean(selected[recipientKey(r)])}
          onToggle=${(e) => setSelected({ ...selected, [recipientKey(r)]: e.target.checked })} />`)}
      </ul>` : null}
    ${reps && canEmail ? html`<form class="compose" onSubmit=${sendEmail} novalidate aria-labelledby="compose-h">
      <h3 id="compose-h" class="section-title">${t('send.heading')}</h3>
      <${Field} id="sender-name" label=${t('send.name')} error=${fieldErrors.senderName}>
        <input id="sender-name" autocomplete="name" required value=${form.name} onInput=${set('name')}
          aria-invalid=${fieldErrors.senderName ? 'true' : undefined} aria-describedby=${describedBy('sender-name', fieldErrors.senderName)} />
      </${Field}>
      <${Field} id="sender-email" label=${t('send.email')} error=${fieldErrors.senderEmail}>
        <input id="sender-email" type="email" autocomplete="email" required value=${form.email} onInput=${set('email')}
          aria-invalid=${fieldErrors.senderEmail ? 'true' : undefined} aria-describedby=${describedBy('sender-email', fieldErrors.senderEmail)} />
      </${Field}>
      <${Field} id="email-subject" label=${t('send.subject')} error=${fieldErrors.subject}
        hint=${campaign.allowEmailEditing ? t('send.placeholders') : t('send.fixed')}>
        <input id="email-subject" value=${form.subject} readOnly=${!campaign.allowEmailEditing} onInput=${set('subject')}
          aria-describedby=${describedBy('email-subject', fieldErrors.subject, true)} />
      </${Field}>
      <${Field} id="email-body" label=${t('send.body')} error=${fieldErrors.body}>
        <textarea id="email-body" rows="10" readOnly=${!campaign.allowEmailEditing} onInput=${set('body')}
          aria-describedby=${describedBy('email-body', fieldErrors.body)} value=${form.body}></textarea>
      </${Field}>
      ${send.state === 'error' ? html`<${Alert}>${send.message}${fieldErrors.recipients ? ' ' + fieldErrors.recipients : ''}</${Alert}>` : null}
      ${send.state === 'sent' ? html`<div class="alert alert-success" role="status" tabindex="-1" ref=${result}>
          <p><strong>${t('send.sent')}</strong></p>
          <ul>${send.emails.map((m) => html`<li key=${m.id}>${m.recipientName}${m.recipientTitle ? ' — ' + m.recipientTitle : ''}</li>`)}</ul>
        </div>` : null}
      <div class="actions">
        ${campaign.allowSmtpEmail ? html`<button type="submit" class="button" disabled=${send.state === 'sending'}>
          ${send.state === 'sending' ? t('send.sending') : t('send.submit', { n: chosen.length })}</button>` : null}
      </div>
      ${campaign.allowMailtoLink && chosen.length > 0 ? html`<div class="mailto">
        <p class="hint">${t('send.mailtoHint')}</p>
        <ul class="inline-list">${chosen.map((r) => html`<li key=${recipientKey(r)}><button type="button" class="button button-secondary"
          onClick=${() => openMailto(r)}>${t('send.mailto', { name: r.name })}</button></li>`)}</ul>
      </div>` : null}
    </form>` : null}
  </section>`;
}

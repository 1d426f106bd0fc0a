// Settings (SUPER_ADMIN): the site settings and the SMTP server, with "send
// a test email". The SMTP password is write-only: the API answers only
// whether one is set, and the page sends one only when it is typed.
import { html, useEffect, useState, setTitle, Spinner } from '../js/ui.js';
import { api, ErrorText, Notice, Field, Select } from './lib.js';

const TEXT = ['organizationName', 'emailFromName', 'emailFromAddress', 'smtpHost', 'smtpUsername', 'smtpTls'];
const FLAGS = [
  ['allowRegistration', 'Anyone may register an account'],
  ['enableInfluence', 'Campaigns (influence) are public'],
  ['enableMedia', 'The video gallery is public'],
  ['enableMap', 'The map is public'],
];

function TestEmail() {
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [res, setRes] = useState(null);
  const [err, setErr] = useState(null);
  const send = async (e) => {
    e.preventDefault();
    setBusy(true);
    setRes(null);
    setErr(null);
    try {
      setRes(await api.post('/api/settings/email/test', { to }, { auth: 'required' }));
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  return html`<section aria-labelledby="test-h" class="panel">
    <h2 id="test-h">Send a test email</h2>
    <p class="muted">Goes through the saved settings (save first), or the server of the environment when they name none.</p>
    <form onSubmit=${send} class="form-inline">
      <${Field} id="test-to" label="Send to" kind="email" value=${to} onInput=${setTo} required />
      <button type="submit" disabled=${busy}>${busy ? 'Sending…' : 'Send test email'}</button>
    </form>
    <${ErrorText} error=${err} />
    <div aria-live="polite">
      ${res && res.sent ? html`<${Notice}>Sent through ${res.server} (${res.source}) from ${res.from}.</${Notice}>` : null}
      ${res && !res.sent ? html`<div class="alert alert-error" role="alert">Not sent through ${res.server} (${res.source}): ${res.error}</div>` : null}
    </div>
  </section>`;
}

export default function Settings() {
  useEffect(() => setTitle('Settings'), []);
  const [form, setForm] = useState(null);
  const [saved, setSaved] = useState(null);
  const [password, setPassword] = useState('');
  const [clearPassword, setClearPassword] = useState(false);
  const [err, setErr] = useState(null);
  const [notice, setNotice] = useState('');
  const load = (st) => { setSaved(st); setForm({ ...st }); setPassword(''); setClearPassword(false); };
  useEffect(() => {
    api.get('/api/settings', { auth: 'required' }).then((r) => load(r.settings), setErr);
  }, []);
  if (!form) return html`<h1>Settings</h1>${err ? html`<${ErrorText} error=${err} />` : html`<${Spinner} label="Loading" />`}`;
  const set = (k) => (v) => setForm({ ...form, [k]: v });
  const save = async (e) => {
    e.preventDefault();
    setErr(null);
    setNotice('');
    const body = {};
    for (const k of TEXT) if (form[k] !== saved[k]) body[k] = form[k];
    for (const [k] of FLAGS) if (form[k] !== saved[k]) body[k] = form[k];
    const port = Number(form.smtpPort);
    if (port !== saved.smtpPort) body.smtpPort = Number.isInteger(port) ? port : form.smtpPort;
    if (clearPassword) body.smtpPassword = '';
    else if (password) body.smtpPassword = password;
    try {
      const r = await api.put('/api/settings', body, { auth: 'required' });
      load(r.settings);
      setNotice('Saved.');
    } catch (x) {
      setErr(x);
    }
  };
  const fe = err && err.fieldErrors ? err.fieldErrors() : {};
  return html`<h1>Settings</h1>
    <form onSubmit=${save}>
      <section aria-labelledby="site-h" class="panel">
        <h2 id="site-h">Site</h2>
        <${Field} id="s-org" label="Organization name" value=${form.organizationName} onInput=${set('organizationName')} error=${fe.organizationName} required />
        ${FLAGS.map(([k, label]) => html`<${Field} id=${'s-' + k} kind="checkbox" label=${label} value=${form[k]} onInput=${set(k)} />`)}
      </section>
      <section aria-labelledby="smtp-h" class="panel">
        <h2 id="smtp-h">Email (SMTP)</h2>
        <p class="muted">Leave the host empty to use the server of the environment (SMTP_* variables).</p>
        <${Field} id="s-fromname" label="From name" value=${form.emailFromName} onInput=${set('emailFromName')} error=${fe.emailFromName} />
        <${Field} id="s-fromaddr" label="From address" kind="email" value=${form.emailFromAddress} onInput=${set('emailFromAddress')} error=${fe.emailFromAddress} />
        <${Field} id="s-host" label="SMTP host" value=${form.smtpHost} onInput=${set('smtpHost')} error=${fe.smtpHost} />
        <${Field} id="s-port" label="SMTP port" kind="number" min="1" max="65535" value=${form.smtpPort} onInput=${set('smtpPort')} error=${fe.smtpPort} />
        <${Field} id="s-user" label="SMTP username" value=${form.smtpUsername} onInput=${set('smtpUsername')} error=${fe.smtpUsername} autocomplete="off" />
        <${Field} id="s-pass" label="SMTP password" kind="password" value=${password} onInput=${setPassword} error=${fe.smtpPassword}
          autocomplete="new-password" disabled=${clearPassword}
          hint=${saved.smtpPasswordSet ? 'A password is set; it is never shown. Type a new one to replace it.' : 'No password is set.'} />
        ${saved.smtpPasswordSet ? html`<${Field} id="s-pass-clear" kind="checkbox" label="Remove the saved password" value=${clearPassword} onInput=${setClearPassword} />` : null}
        <${Select} id="s-tls" label="Encryption" value=${form.smtpTls} onInput=${set('smtpTls')}
          options=${[{ value: 'none', label: 'None' }, { value: 'starttls', label: 'STARTTLS' }, { value: 'tls', label: 'TLS' }]} />
      </section>
      <div class="form-actions"><button type="submit">Save settings</button></div>
      <div aria-live="polite">${notice ? html`<${Notice}>${notice}</${Notice}>` : null}</div>
      <${ErrorText} error=${err} />
    </form>
    <${TestEmail} />`;
}

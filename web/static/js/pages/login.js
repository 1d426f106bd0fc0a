// The sign-in page. After signing in, the person goes back to ?next= (a
// path on this site), else to /admin.
import { html, useEffect, useState, setTitle, Alert } from '../ui.js';
import { t } from '../i18n.js';
import { login } from '../api.js';
import { navigate } from '../router.js';
import { errorText } from './campaign.js';

// safeNext keeps only a path on this site.
export function safeNext(next) {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/admin';
}

export default function Login({ query }) {
  const [form, setForm] = useState({ email: '', password: '' });
  const [state, setState] = useState({ state: 'idle' });
  useEffect(() => setTitle(t('login.heading')), []);
  const submit = async (e) => {
    e.preventDefault();
    setState({ state: 'sending' });
    try {
      await login(form.email, form.password);
      navigate(safeNext(query.get('next')), { replace: true });
    } catch (err) {
      setState({ state: 'error', message: err.status === 401 ? t('login.wrong') : errorText(err) });
    }
  };
  return html`<section class="narrow" aria-labelledby="login-h">
    <h1 id="login-h">${t('login.heading')}</h1>
    ${query.get('next') ? html`<p>${t('login.needed')}</p>` : null}
    <form onSubmit=${submit}>
      <div class="field">
        <label for="login-email">${t('login.email')}</label>
        <input id="login-email" type="email" autocomplete="username" required value=${form.email}
          onInput=${(e) => setForm({ ...form, email: e.target.value })} />
      </div>
      <div class="field">
        <label for="login-password">${t('login.password')}</label>
        <input id="login-password" type="password" autocomplete="current-password" required value=${form.password}
          onInput=${(e) => setForm({ ...form, password: e.target.value })} />
      </div>
      ${state.state === 'error' ? html`<${Alert}>${state.message}</${Alert}>` : null}
      <button type="submit" class="button" disabled=${state.state === 'sending'}>${t('login.submit')}</button>
    </form>
  </section>`;
}

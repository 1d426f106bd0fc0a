// Users (SUPER_ADMIN): search, paging, create, edit role, status and expiry.
import { html, useEffect, useState, setTitle, Spinner } from '../js/ui.js';
import { api, useLoad, ErrorText, Notice, Pager, Field, Select, fmtDate } from './lib.js';

const ROLES = ['SUPER_ADMIN', 'INFLUENCE_ADMIN', 'MAP_ADMIN', 'USER', 'TEMP'];
const STATUSES = ['ACTIVE', 'INACTIVE', 'SUSPENDED', 'EXPIRED'];

// toLocalInput turns an ISO time into the value of a datetime-local input.
function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(v) {
  return v ? new Date(v).toISOString() : undefined;
}

function CreateUser({ onCreated }) {
  const [f, setF] = useState({ email: '', name: '', role: 'USER', status: 'ACTIVE', password: '', expiresAt: '' });
  const [err, setErr] = useState(null);
  const [done, setDone] = useState(null);
  const set = (k) => (v) => setF({ ...f, [k]: v });
  const submit = async (e) => {
    e.preventDefault();
    setErr(null);
    setDone(null);
    try {
      const body = { email: f.email, name: f.name, role: f.role, status: f.status };
      if (f.password) body.password = f.password;
      if (f.expiresAt) body.expiresAt = fromLocalInput(f.expiresAt);
      const res = await api.post('/api/users', body, { auth: 'required' });
      setDone(res);
      setF({ email: '', name: '', role: 'USER', status: 'ACTIVE', password: '', expiresAt: '' });
      onCreated();
    } catch (x) {
      setErr(x);
    }
  };
  const fe = err && err.fieldErrors ? err.fieldErrors() : {};
  return html`<details class="panel">
    <summary>Create a user</summary>
    <form onSubmit=${submit} class="form-grid">
      <${Field} id="nu-email" label="Email" kind="email" value=${f.email} onInput=${set('email')} error=${fe.email} required />
      <${Field} id="nu-name" label="Name" value=${f.name} onInput=${set('name')} error=${fe.name} />
      <${Select} id="nu-role" label="Role" value=${f.role} options=${ROLES} onInput=${set('role')} />
      <${Select} id="nu-status" label="Status" value=${f.status} options=${STATUSES} onInput=${set('status')} />
      <${Field} id="nu-password" label="Password" kind="password" value=${f.password} onInput=${set('password')}
        hint="Leave empty to have one generated and shown once." error=${fe.password} autocomplete="new-password" />
      <${Field} id="nu-expires" label="Expires" kind="datetime-local" value=${f.expiresAt} onInput=${set('expiresAt')}
        hint="Optional: the account stops working then." error=${fe.expiresAt} />
      <div class="form-actions"><button type="submit">Create</button></div>
    </form>
    <${ErrorText} error=${err} />
    ${done ? html`<${Notice}>Created ${done.user.email}.
      ${done.generatedPassword ? html` Its password, shown only now: <code class="secret">${done.generatedPassword}</code>` : null}</${Notice}>` : null}
  </details>`;
}

function UserRow({ u, onSaved }) {
  const [edit, setEdit] = useState(null);
  const [err, setErr] = useState(null);
  if (!edit) {
    return html`<tr>
      <td>${u.name}</td><td>${u.email}</td><td>${u.role}</td><td>${u.status}</td>
      <td>${fmtDate(u.expiresAt)}</td><td>${fmtDate(u.lastLoginAt)}</td>
      <td><button type="button" class="button-secondary" onClick=${() => setEdit({ role: u.role, status: u.status, expiresAt: toLocalInput(u.expiresAt), name: u.name })}
        aria-label=${'Edit ' + u.email}>Edit</button></td>
    </tr>`;
  }
  const save = async (e) => {
    e.preventDefault();
    setErr(null);
    try {
      const body = { role: edit.role, status: edit.status, name: edit.name };
      if (edit.expiresAt) body.expiresAt = fromLocalInput(edit.expiresAt);
      else if (u.expiresAt) body.expiresAt = null; // emptied: the account no longer ends
      await api.patch('/api/users/' + u.id, body, { auth: 'required' });
      setEdit(null);
      onSaved();
    } catch (x) {
      setErr(x);
    }
  };
  const set = (k) => (v) => setEdit({ ...edit, [k]: v });
  return html`<tr class="editing"><td colspan="7">
    <form onSubmit=${save} class="form-grid">
      <${Field} id=${'u-name-' + u.id} label=${'Name of ' + u.email} value=${edit.name} onInput=${set('name')} />
      <${Select} id=${'u-role-' + u.id} label="Role" value=${edit.role} options=${ROLES} onInput=${set('role')} />
      <${Select} id=${'u-status-' + u.id} label="Status" value=${edit.status} options=${STATUSES} onInput=${set('status')} />
      <${Field} id=${'u-exp-' + u.id} label="Expires" kind="datetime-local" value=${edit.expiresAt} onInput=${set('expiresAt')}
        hint="Empty: the account never expires." />
      <div class="form-actions">
        <button type="submit">Save</button>
        <button type="button" class="button-secondary" onClick=${() => setEdit(null)}>Cancel</button>
      </div>
    </form>
    <${ErrorText} error=${err} />
  </td></tr>`;
}

export default function Users() {
  useEffect(() => setTitle('Users'), []);
  const [q, setQ] = useState({ search: '', role: '', status: '', page: 1 });
  const [search, setSearch] = useState('');
  const list = useLoad(() => api.get('/api/users', { auth: 'required', query: { ...q, limit: 20 } }), [q.search, q.role, q.status, q.page]);
  return html`<h1>Users</h1>
    <${CreateUser} onCreated=${list.reload} />
    <form class="filters" role="search" onSubmit=${(e) => { e.preventDefault(); setQ({ ...q, search, page: 1 }); }}>
      <${Field} id="u-search" label="Search name or email" kind="search" value=${search} onInput=${setSearch} />
      <${Select} id="u-frole" label="Role" value=${q.role} options=${[{ value: '', label: 'Any' }, ...ROLES]}
        onInput=${(v) => setQ({ ...q, role: v, page: 1 })} />
      <${Select} id="u-fstatus" label="Status" value=${q.status} options=${[{ value: '', label: 'Any' }, ...STATUSES]}
        onInput=${(v) => setQ({ ...q, status: v, page: 1 })} />
      <div class="form-actions"><button type="submit">Search</button></div>
    </form>
    <${ErrorText} error=${list.error} />
    ${list.loading && !list.data ? html`<${Spinner} label="Loading" />` : null}
    ${list.data ? html`<div class="table-wrap"><table>
      <caption class="visually-hidden">Users</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th>
        <th scope="col">Expires</th><th scope="col">Last login</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>${list.data.data.map((u) => html`<${UserRow} key=${u.id} u=${u} onSaved=${list.reload} />`)}</tbody>
    </table></div>
    <${Pager} pagination=${list.data.pagination} onPage=${(p) => setQ({ ...q, page: p })} />` : null}`;
}

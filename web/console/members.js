// Members: list, add (email, name, role, optional password), change role, remove.

import * as api from './api.js';
import {
  h, clear, pageHeader, table, time, badge, emptyState, readonlyNote, formDialog, confirmDialog, field,
  toast, setFieldError,
} from './ui.js';

export const ROLES = [
  { id: 'owner', label: 'Owner', desc: 'Everything, including other owners' },
  { id: 'admin', label: 'Admin', desc: 'Everything in the console and the admin API' },
  { id: 'developer', label: 'Developer', desc: 'Reads everything, changes nothing' },
  { id: 'end-user', label: 'End user', desc: 'No console access; signs in to private apps' },
];
const roleLabel = (r) => (ROLES.find((x) => x.id === r) || { label: r }).label;

// Maps a user id (or email) to something readable, for "created by" and "actor" columns.
export async function memberDirectory() {
  let members = [];
  try { members = (await api.get('/members')) || []; } catch (err) { if (err.status === 401) throw err; }
  const byId = new Map(members.map((m) => [m.id, m]));
  return (idOrText) => {
    if (idOrText === null || idOrText === undefined || idOrText === '') return h('span', { class: 'muted' }, '—');
    const m = byId.get(idOrText);
    if (m) return h('span', { title: `${m.email} (${m.id})` }, m.name || m.email);
    return h('span', { class: typeof idOrText === 'string' && idOrText.length > 30 ? 'mono small' : '' }, String(idOrText));
  };
}

export async function renderMembers(ctx) {
  const { app, content } = ctx;
  const members = (await api.get('/members')) || [];
  if (!ctx.isCurrent()) return;
  const me = app.user;
  const addBtn = app.canEdit
    ? h('button', { type: 'button', class: 'btn btn-primary', id: 'add-member', onclick: () => openAddMember(ctx) }, '+ Add member')
    : null;

  const roleCell = (m) => {
    if (!app.canEdit || m.id === me.id) {
      return h('span', {}, roleLabel(m.role), m.id === me.id ? h('span', { class: 'muted' }, ' (you)') : null);
    }
    const sel = h('select', { class: 'select select-sm', 'aria-label': `Role of ${m.email}`, dataset: { memberRole: m.id } },
      ROLES.map((r) => h('option', { value: r.id, selected: r.id === m.role }, r.label)));
    const status = h('span', { class: 'inline-status', role: 'status' });
    sel.addEventListener('change', async () => {
      const prev = m.role;
      sel.disabled = true;
      status.className = 'inline-status';
      status.textContent = 'Saving…';
      try {
        const res = await api.patch(`/members/${api.seg(m.id)}`, { role: sel.value });
        m.role = (res && res.role) || sel.value;
        status.textContent = 'Saved';
        setTimeout(() => { if (status.textContent === 'Saved') status.textContent = ''; }, 2000);
      } catch (err) {
        sel.value = prev;
        status.className = 'inline-status inline-error';
        status.textContent = api.errorMessage(err);
      } finally {
        sel.disabled = false;
      }
    });
    return h('div', { class: 'inline-field' }, sel, status);
  };

  const columns = [
    { label: 'Name', cell: (m) => h('span', { class: 'cell-strong' }, m.name || '—') },
    { label: 'Email', cell: (m) => m.email },
    { label: 'Role', cell: roleCell },
    { label: 'Password', cell: (m) => (m.has_password ? badge('Set', 'success') : badge('None', 'neutral', 'Cannot sign in with a password')) },
    { label: 'Added', cell: (m) => time(m.created_at) },
  ];
  if (app.canEdit) {
    columns.push({
      label: '', sr: 'Actions', class: 'cell-actions',
      cell: (m) => (m.id === me.id ? null : h('button', {
        type: 'button', class: 'btn btn-sm btn-danger-ghost', 'aria-label': `Remove ${m.email}`,
        dataset: { action: 'remove-member', memberId: m.id },
        onclick: () => confirmDialog({
          id: 'remove-member-dialog',
          title: `Remove ${m.email}?`,
          message: 'They lose access to the console and to private apps, and leave all groups.',
          confirmLabel: 'Remove',
          async action() {
            await api.del(`/members/${api.seg(m.id)}`);
            toast(`Removed ${m.email}`);
            if (ctx.isCurrent()) ctx.app.refresh();
          },
        }),
      }, 'Remove')),
    });
  }

  const sorted = [...members].sort((a, b) => String(a.email).localeCompare(String(b.email)));
  clear(content,
    pageHeader('Members', 'People of this organization: console users (owners, admins, developers) and end users who sign in to private apps.', addBtn ? [addBtn] : []),
    readonlyNote(app),
    sorted.length === 0
      ? emptyState('No members yet. Add the people who manage this organization or sign in to its private apps.')
      : table(columns, sorted, { caption: 'Members', rowAttrs: (m) => ({ dataset: { memberId: m.id, email: m.email } }) }));
}

function openAddMember(ctx) {
  const email = h('input', { type: 'email', id: 'member-email', autocomplete: 'off', spellcheck: 'false', required: true });
  const name = h('input', { type: 'text', id: 'member-name', autocomplete: 'off', maxlength: '200' });
  const role = h('select', { id: 'member-role', class: 'select' },
    ROLES.map((r) => h('option', { value: r.id, selected: r.id === 'developer' }, `${r.label} — ${r.desc}`)));
  const password = h('input', { type: 'password', id: 'member-password', autocomplete: 'new-password' });
  formDialog({
    title: 'Add member',
    id: 'add-member-dialog',
    submitLabel: 'Add member',
    fields: [
      { control: email, node: field('Email', email, { name: 'email' }), pattern: /email/i },
      { control: name, node: field('Name (optional)', name, { name: 'name' }), pattern: /\bname\b/i },
      { control: role, node: field('Role', role, { name: 'role' }), pattern: /role/i },
      { control: password, node: field('Password (optional)', password, { name: 'password', hint: 'Needed to sign in to the console or to private apps. Leave empty to set it later with the CLI.' }), pattern: /password/i },
    ],
    validate() {
      const p = [];
      const v = email.value.trim();
      if (!v) p.push([email, 'Enter an email address.']);
      else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) p.push([email, 'This does not look like an email address.']);
      return p;
    },
    async onSubmit(ctl) {
      const body = { email: email.value.trim(), role: role.value };
      if (name.value.trim()) body.name = name.value.trim();
      if (password.value) body.password = password.value;
      try {
        await api.post('/members', body);
      } catch (err) {
        if (err.status === 409) { setFieldError(email, api.errorMessage(err)); email.focus(); return; }
        throw err;
      }
      ctl.close();
      toast(`Added ${body.email}`);
      if (ctx.isCurrent()) ctx.app.refresh();
    },
  });
}

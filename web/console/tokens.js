// Access Tokens: list, "+ Create token" (value shown once), revoke.

import * as api from './api.js';
import {
  h, clear, pageHeader, table, time, isPast, badge, emptyState, readonlyNote, formDialog,
  confirmDialog, field, copyButton, icon, isoDate, isoInstant, toast,
} from './ui.js';
import { memberDirectory } from './members.js';

export const ONE_TIME_WARNING =
  'This token is shown only once. Copy it now and store it somewhere safe; you will not be able to see it again.';

const TYPE_LABEL = { embed: 'Embed', admin: 'Admin' };

export async function renderTokens(ctx) {
  const { app, content } = ctx;
  const [tokens, who] = await Promise.all([api.get('/access-tokens'), memberDirectory()]);
  if (!ctx.isCurrent()) return;

  const createBtn = app.canEdit
    ? h('button', { type: 'button', class: 'btn btn-primary', id: 'create-token' }, '+ Create token')
    : null;
  if (createBtn) createBtn.addEventListener('click', () => openCreateToken(ctx));

  const list = [...(tokens || [])].sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  const status = (t) => {
    if (t.revoked_at) return badge('Revoked', 'danger', `Revoked ${new Date(t.revoked_at).toLocaleString()}`);
    if (isPast(t.expires_at)) return badge('Expired', 'warn');
    return badge('Active', 'success');
  };
  const columns = [
    { label: 'Name', cell: (t) => h('span', { class: 'cell-strong' }, t.name || '(unnamed)') },
    { label: 'Type', cell: (t) => badge(TYPE_LABEL[t.type] || t.type, t.type === 'admin' ? 'accent' : 'neutral') },
    { label: 'Token', cell: (t) => h('code', { class: 'mono token-prefix' }, `${t.prefix || ''}…`) },
    { label: 'Created by', cell: (t) => who(t.created_by) },
    { label: 'Created', cell: (t) => time(t.created_at) },
    { label: 'Last used', cell: (t) => time(t.last_used_at, 'relative', 'Never') },
    { label: 'Expires', cell: (t) => time(t.expires_at, 'date', 'Never') },
    { label: 'Status', cell: status },
  ];
  if (app.canEdit) {
    columns.push({
      label: '', sr: 'Actions', class: 'cell-actions',
      cell: (t) => (t.revoked_at ? null : h('button', {
        type: 'button', class: 'btn btn-sm btn-danger-ghost', dataset: { action: 'revoke', tokenId: t.id },
        onclick: () => revoke(ctx, t),
      }, 'Revoke')),
    });
  }

  clear(content,
    pageHeader('Access Tokens',
      'Embed tokens let your backend request session tokens for embedded users (POST /api/v1/public/token). Admin tokens let scripts use the admin API.',
      createBtn ? [createBtn] : []),
    readonlyNote(app),
    list.length === 0
      ? emptyState('No access tokens yet. Create one to let your backend request session tokens.')
      : table(columns, list, {
        caption: 'Access tokens',
        rowAttrs: (t) => ({ dataset: { tokenId: t.id, status: t.revoked_at ? 'revoked' : isPast(t.expires_at) ? 'expired' : 'active' } }),
      }));
}

function openCreateToken(ctx) {
  const today = new Date();
  const def = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 90);
  const name = h('input', { type: 'text', id: 'token-name', name: 'name', required: true, maxlength: '200', autocomplete: 'off', placeholder: 'e.g. Customer portal backend' });
  const expires = h('input', { type: 'date', id: 'token-expires', name: 'expiration', required: true, value: isoDate(def), min: isoDate(today) });
  const typeRadio = (value, label, desc, checked) => {
    const id = `token-type-${value}`;
    return h('div', { class: 'radio-card' },
      h('input', { type: 'radio', name: 'token-type', id, value, checked, 'aria-describedby': `${id}-desc` }),
      h('label', { for: id }, label),
      h('p', { class: 'radio-desc', id: `${id}-desc` }, desc));
  };
  const typeGroup = h('fieldset', { class: 'field fieldset', id: 'token-type' },
    h('legend', { class: 'field-label' }, 'Type'),
    h('div', { class: 'radio-cards' },
      typeRadio('embed', 'Embed', 'For your backend: requests session tokens for embedded users.', true),
      typeRadio('admin', 'Admin', 'For scripts: full access to this organization’s admin API.', false)));

  const dlg = formDialog({
    title: 'Create access token',
    // Closing after the value was shown: reload the list (which shows only the prefix).
    onClose: () => { if (dlg.created && ctx.isCurrent()) ctx.app.refresh(); },
    id: 'create-token-dialog',
    submitLabel: 'Create',
    fields: [
      { control: name, node: field('Name', name, { hint: 'A descriptive name, so you know later what uses it.', name: 'name' }), pattern: /\bname\b/i },
      { control: expires, node: field('Expiration', expires, { hint: 'Defaults to 90 days from today. The token stops working at the end of this day.', name: 'expiration' }), pattern: /expir/i },
      { node: typeGroup },
    ],
    validate() {
      const p = [];
      if (!name.value.trim()) p.push([name, 'Give the token a name.']);
      if (!expires.value) p.push([expires, 'Choose an expiration date.']);
      else if (endOfDay(expires.value) <= new Date()) p.push([expires, 'Choose a date in the future.']);
      return p;
    },
    async onSubmit() {
      const type = dlg.form.querySelector('input[name="token-type"]:checked').value;
      const body = { name: name.value.trim(), type, expiresAt: isoInstant(endOfDay(expires.value)) };
      const res = await api.post('/access-tokens', body);
      showCreated(dlg, res, body);
    },
  });
}

function endOfDay(yyyyMmDd) {
  const [y, m, d] = yyyyMmDd.split('-').map(Number);
  return new Date(y, m - 1, d, 23, 59, 59);
}

// Replace the form by the one-time value. It exists only in this dialog's DOM: closing the
// dialog removes it, and nothing keeps a copy.
function showCreated(dlg, res, body) {
  dlg.created = true;
  dlg.setTitle('Token created');
  const value = h('code', { id: 'new-token-value', class: 'secret-value mono', tabindex: '0' }, res.key);
  const copy = copyButton(() => value.textContent, { fallbackEl: value, what: 'Token copied to the clipboard' });
  const done = h('button', { type: 'button', class: 'btn btn-primary', id: 'token-done', onclick: () => dlg.close() }, 'Done');
  const expiresAt = res.expiresAt || res.expires_at;
  clear(dlg.body,
    h('div', { class: 'created-token', 'data-created-token': res.id || '' },
      h('div', { class: 'note note-warn', role: 'alert', id: 'token-warning' }, icon('warn'), h('span', {}, ONE_TIME_WARNING)),
      h('p', { class: 'created-meta' },
        h('strong', {}, body.name), ` · ${TYPE_LABEL[body.type]} token`,
        expiresAt ? [' · expires ', time(expiresAt)] : null),
      h('div', { class: 'secret-row' }, value, copy),
      body.type === 'embed'
        ? h('p', { class: 'field-hint' }, 'Use it on your backend as ', h('code', {}, 'Authorization: Bearer <token>'),
          ' when calling POST /api/v1/public/token. Never put it in browser code.')
        : h('p', { class: 'field-hint' }, 'Admin tokens act as an admin of this organization. Keep them out of browsers and repositories.'),
      h('div', { class: 'dialog-actions' }, done)));
  copy.focus();
}

function revoke(ctx, t) {
  confirmDialog({
    id: 'revoke-token-dialog',
    title: `Revoke “${t.name}”?`,
    message: [
      'Anything using this token can no longer request session tokens, and sessions already issued with it stop working.',
      'This cannot be undone.',
    ],
    confirmLabel: 'Revoke',
    async action() {
      await api.del(`/access-tokens/${api.seg(t.id)}`);
      toast(`Revoked “${t.name}”`);
      if (ctx.isCurrent()) ctx.app.refresh();
    },
  });
}

export { openCreateToken };

// Signing keys (deployment-wide): list and rotate.

import * as api from './api.js';
import { h, clear, pageHeader, table, time, badge, emptyState, readonlyNote, confirmDialog, toast } from './ui.js';

const STATE_KIND = { active: 'success', retiring: 'warn', next: 'accent', retired: 'neutral' };

export async function renderKeys(ctx) {
  const { app, content } = ctx;
  const keys = (await api.get('/signing-keys')) || [];
  if (!ctx.isCurrent()) return;
  const rotate = app.canEdit
    ? h('button', { type: 'button', class: 'btn btn-primary', id: 'rotate-key', onclick: () => rotateKey(ctx) }, 'Rotate')
    : null;
  const order = { active: 0, next: 1, retiring: 2 };
  const sorted = [...keys].sort((a, b) => ((order[a.state] ?? 9) - (order[b.state] ?? 9)) ||
    String(b.created_at).localeCompare(String(a.created_at)));
  const columns = [
    { label: 'Key ID (kid)', cell: (k) => h('code', { class: 'mono' }, k.kid) },
    { label: 'Algorithm', cell: (k) => k.alg || 'ES256' },
    { label: 'State', cell: (k) => badge(k.state ? k.state[0].toUpperCase() + k.state.slice(1) : '—', STATE_KIND[k.state] || 'neutral') },
    { label: 'Created', cell: (k) => time(k.created_at, 'datetime') },
  ];
  clear(content,
    pageHeader('Signing keys',
      'Session tokens are signed with the active key; verifiers fetch the public keys from /.well-known/jwks.json. Keys are shared by every organization on this server.',
      rotate ? [rotate] : []),
    readonlyNote(app),
    sorted.length === 0
      ? emptyState('No signing keys yet. The server creates one when it first issues a session token.')
      : table(columns, sorted, { caption: 'Signing keys', rowAttrs: (k) => ({ dataset: { kid: k.kid, state: k.state } }) }));
}

function rotateKey(ctx) {
  confirmDialog({
    id: 'rotate-key-dialog',
    title: 'Rotate the signing key?',
    message: [
      'A new key signs session tokens from now on. The current key stays in the JWKS until the tokens it signed have expired, so signed-in users are not affected.',
      'This affects every organization on this server.',
    ],
    confirmLabel: 'Rotate key',
    danger: false,
    async action() {
      const r = await api.post('/signing-keys/rotate', {});
      toast(`New signing key ${r && r.kid ? r.kid : ''} is active`);
      if (ctx.isCurrent()) ctx.app.refresh();
    },
  });
}

// Integrations: host APIs that apps call through Tessera as the signed-in user. Tessera exchanges
// the user's session at the identity provider's token endpoint (RFC 8693 token exchange) and calls
// the API with the access token it gets. List, add, edit, delete, and "How apps call it".
// The client secret is write-only: the API never returns it and this page never shows it.

import * as api from './api.js';
import {
  h, clear, pageHeader, table, badge, emptyState, readonlyNote, formDialog, confirmDialog, field, toast,
  copyButton,
} from './ui.js';

// A URL or identifier with line-break opportunities after / . - (so table columns wrap between
// its parts, not in the middle of a word). Its text content is unchanged.
export function breakable(text) {
  const out = [];
  for (const part of String(text ?? '').split(/(?<=[/.-])/)) out.push(part, h('wbr'));
  out.pop();
  return out;
}

// The code an app deployed to Tessera runs to call an integration.
export function integrationSnippet(base, id) {
  return [
    `import * as tessera from '${base}/sdk/app.js';`,
    `const res = await tessera.fetch('${id}', '/orders?status=open');`,
    'const orders = await res.json();',
  ].join('\n');
}

export async function renderIntegrations(ctx) {
  const { app, content } = ctx;
  const list = (await api.get('/integrations')) || [];
  if (!ctx.isCurrent()) return;
  const addBtn = () => h('button', { type: 'button', class: 'btn btn-primary', id: 'add-integration', onclick: () => openIntegrationDialog(ctx) }, '+ Add integration');
  const sorted = [...list].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const mono = (v) => h('code', { class: 'mono small' }, breakable(v));

  const columns = [
    { label: 'Name', cell: (i) => h('span', { class: 'cell-strong' }, i.name) },
    { label: 'API base URL', cell: (i) => mono(i.base_url) },
    { label: 'Token URL', cell: (i) => mono(i.token_url) },
    { label: 'Client ID', cell: (i) => mono(i.client_id) },
    { label: 'Client secret', cell: (i) => (i.has_client_secret ? badge('Set', 'success', 'Stored on the server; never shown') : badge('Not set', 'warn')) },
    { label: 'Audience', cell: (i) => (i.audience ? mono(i.audience) : h('span', { class: 'muted' }, '—')) },
    { label: 'Scope', cell: (i) => (i.scope ? mono(i.scope) : h('span', { class: 'muted' }, '—')) },
  ];
  if (app.canEdit) {
    columns.push({
      label: '', sr: 'Actions', class: 'cell-actions',
      cell: (i) => [
        h('button', {
          type: 'button', class: 'btn btn-sm', 'aria-label': `Edit ${i.name}`, dataset: { action: 'edit-integration', integrationId: i.id },
          onclick: () => openIntegrationDialog(ctx, i),
        }, 'Edit'),
        ' ',
        h('button', {
          type: 'button', class: 'btn btn-sm btn-danger-ghost', 'aria-label': `Delete ${i.name}`, dataset: { action: 'delete-integration', integrationId: i.id },
          onclick: () => deleteIntegration(ctx, i),
        }, 'Delete'),
      ],
    });
  }

  const empty = sorted.length === 0;
  clear(content,
    pageHeader('Integrations',
      'Let your apps call your own APIs as the signed-in user. Tessera exchanges the user’s session for an access token at your identity provider (RFC 8693 token exchange) and calls the API with it; the client secret stays on the server.',
      app.canEdit && !empty ? [addBtn()] : []),
    readonlyNote(app),
    empty
      ? emptyState(app.canEdit
        ? 'No integrations yet. Add one for each API your apps call: its base URL, and the token endpoint and client your identity provider uses for token exchange. Apps then call it with tessera.fetch.'
        : 'No integrations yet. An owner or admin can add the APIs your apps call through Tessera.',
      app.canEdit ? addBtn() : null)
      : [
        table(columns, sorted, { caption: 'Integrations', rowAttrs: (i) => ({ dataset: { integrationId: i.id } }) }),
        sorted.map((i) => snippetCard(i)),
      ]);
}

function snippetCard(i) {
  const titleId = `integration-snippet-title-${i.id}`;
  const code = h('code', { class: 'mono', id: `integration-snippet-${i.id}` }, integrationSnippet(location.origin, i.id));
  return h('section', { class: 'card snippet-card', 'aria-labelledby': titleId, dataset: { snippetFor: i.id } },
    h('h2', { class: 'card-title', id: titleId }, `How apps call “${i.name}”`),
    h('p', { class: 'card-desc' }, 'In an app deployed to Tessera, pass the integration ID and a path under ',
      h('code', {}, i.base_url), '. Tessera adds the user’s access token; the app never sees a secret.'),
    h('div', { class: 'code-block' },
      h('div', { class: 'code-toolbar' }, h('span', {}, 'JavaScript · integration ', h('span', { class: 'mono' }, i.id)),
        copyButton(() => code.textContent, { fallbackEl: code, what: 'Snippet copied' })),
      h('pre', { class: 'code', tabindex: '0', 'aria-label': `Snippet calling ${i.name}` }, code)));
}

// Add (it null) or edit. Edit sends only the fields that changed; an empty secret keeps the stored one.
function openIntegrationDialog(ctx, it = null) {
  const editing = it !== null;
  const orig = it || { name: '', base_url: '', token_url: '', client_id: '', audience: '', scope: '' };
  const text = (id, value, extra = {}) => h('input', { type: 'text', id, value: value || '', autocomplete: 'off', spellcheck: 'false', ...extra });
  const name = text('integration-name', orig.name, { maxlength: '200', spellcheck: null, placeholder: 'e.g. Orders API' });
  const baseUrl = text('integration-base-url', orig.base_url, { type: 'url', placeholder: 'https://api.example.com' });
  const tokenUrl = text('integration-token-url', orig.token_url, { type: 'url', placeholder: 'https://YOUR_DOMAIN.okta.com/oauth2/default/v1/token' });
  const clientId = text('integration-client-id', orig.client_id);
  // Write-only: never prefilled, cleared once sent (the dialog and its DOM go away on close).
  const secret = h('input', { type: 'password', id: 'integration-client-secret', autocomplete: 'off', spellcheck: 'false', placeholder: editing && orig.has_client_secret ? 'Unchanged' : null });
  const audience = text('integration-audience', orig.audience, { placeholder: 'e.g. api://orders' });
  const scope = text('integration-scope', orig.scope, { placeholder: 'e.g. orders.read' });

  formDialog({
    title: editing ? `Edit “${orig.name}”` : 'Add integration',
    id: editing ? 'edit-integration-dialog' : 'add-integration-dialog',
    submitLabel: editing ? 'Save' : 'Add',
    wide: true,
    fields: [
      { control: name, node: field('Name', name, { hint: 'How you refer to this API, e.g. Orders API.', name: 'name' }), pattern: /^name\b|\bthat name\b/i },
      { control: baseUrl, node: field('API base URL', baseUrl, { hint: 'The host API Tessera calls for the app. Apps pass paths relative to it.', name: 'base_url' }), pattern: /base_url|base url/i },
      { control: tokenUrl, node: field('Token URL', tokenUrl, { hint: 'Your identity provider’s token endpoint, which performs the RFC 8693 exchange.', name: 'token_url' }), pattern: /token_url|token url/i },
      {
        control: clientId,
        node: h('div', { class: 'grid-2' },
          field('Client ID', clientId, { hint: 'The client Tessera authenticates as at the token endpoint.', name: 'client_id' }),
          field('Client secret', secret, {
            hint: !editing ? 'Stored on the server and never shown again, here or in the API.'
              : orig.has_client_secret ? 'Leave empty to keep the current secret. A new one replaces it.'
                : 'No secret is stored yet: enter the client secret.',
            name: 'client_secret',
          })),
        pattern: /client_id|client id/i,
      },
      { control: secret, node: null, pattern: /client_secret|secret/i },
      { control: audience, node: field('Audience', audience, { hint: 'The audience of the access tokens your API accepts, requested in the exchange. Leave empty only if your provider does not use one.', name: 'audience' }), pattern: /audience/i },
      { control: scope, node: field('Scope (optional)', scope, { hint: 'Space-separated scopes to request, if your provider needs them.', name: 'scope' }), pattern: /\bscope\b/i },
    ],
    validate() {
      const p = [];
      if (!name.value.trim()) p.push([name, 'Give the integration a name.']);
      if (!baseUrl.value.trim()) p.push([baseUrl, 'Enter the API base URL, e.g. https://api.example.com']);
      if (!tokenUrl.value.trim()) p.push([tokenUrl, 'Enter the token endpoint of your identity provider.']);
      if (!clientId.value.trim()) p.push([clientId, 'Enter the client ID.']);
      if (!editing && !secret.value) p.push([secret, 'Enter the client secret.']);
      return p;
    },
    async onSubmit(ctl) {
      const now = {
        name: name.value.trim(),
        base_url: baseUrl.value.trim(),
        token_url: tokenUrl.value.trim(),
        client_id: clientId.value.trim(),
        audience: audience.value.trim(),
        scope: scope.value.trim(),
      };
      const body = {};
      if (!editing) {
        Object.assign(body, now);
        if (!body.scope) delete body.scope;
      } else {
        for (const k of Object.keys(now)) if (now[k] !== (orig[k] || '')) body[k] = now[k];
      }
      if (secret.value) body.client_secret = secret.value;
      if (editing && Object.keys(body).length === 0) {
        ctl.close();
        toast('No changes to save');
        return;
      }
      const saved = editing
        ? await api.patch(`/integrations/${api.seg(orig.id)}`, body)
        : await api.post('/integrations', body);
      secret.value = '';
      ctl.close();
      const label = (saved && saved.name) || now.name;
      toast(editing ? `Saved “${label}”` : `Added “${label}”`);
      if (ctx.isCurrent()) ctx.app.refresh();
    },
  });
}

function deleteIntegration(ctx, i) {
  confirmDialog({
    id: 'delete-integration-dialog',
    title: `Delete “${i.name}”?`,
    message: [
      `Apps calling tessera.fetch('${i.id}', …) will get an error, and the stored client secret is erased.`,
      'This cannot be undone.',
    ],
    confirmLabel: 'Delete',
    async action() {
      await api.del(`/integrations/${api.seg(i.id)}`);
      toast(`Deleted “${i.name}”`);
      if (ctx.isCurrent()) ctx.app.refresh();
    },
  });
}

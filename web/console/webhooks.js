// Webhooks: endpoints Tessera calls with the organization's session lifecycle events (created,
// refreshed, revoked, denied), signed with a secret only the endpoint knows. List with status,
// "+ Add webhook" (URL, event types; the secret is shown once), a "…" menu per webhook (Send test,
// Edit, Rotate secret, Disable/Enable, Delete) and its delivery log. Developers read only.
// docs/SESSIONS.md, "Webhooks".

import * as api from './api.js';
import {
  h, clear, pageHeader, table, time, badge, emptyState, readonlyNote, formDialog, openDialog, confirmDialog,
  field, setFieldError, copyButton, icon, menuButton, toast, loading, errorState, fmtRelative,
} from './ui.js';
import { breakable } from './integrations.js';

export const SECRET_WARNING =
  'This signing secret is shown only once. Copy it now and store it with your endpoint; you will not be able to see it again.';

export const EVENT_TYPES = [
  { id: 'session.created', desc: 'a session token was issued' },
  { id: 'session.refreshed', desc: 'an open embed switched to a new token' },
  { id: 'session.revoked', desc: 'a session, or every session of a user, was revoked' },
  { id: 'session.denied', desc: 'a token request was refused' },
];

// The verification code shown on the page (the recipe of docs/SESSIONS.md).
export const VERIFY_SNIPPET = [
  "const crypto = require('node:crypto');",
  '',
  '// header: the Tessera-Signature value; rawBody: the request body as a Buffer, unparsed.',
  'function verifyTessera(secret, header, rawBody, toleranceSeconds = 300) {',
  "  const m = /^t=(\\d+),v1=([0-9a-f]{64})$/.exec(header || '');",
  '  if (!m || Math.abs(Date.now() / 1000 - Number(m[1])) > toleranceSeconds) return false;',
  "  const expected = crypto.createHmac('sha256', secret).update(`${m[1]}.`).update(rawBody).digest();",
  "  return crypto.timingSafeEqual(expected, Buffer.from(m[2], 'hex'));",
  '}',
].join('\n');

function statusBadge(w) {
  if (!w.enabled) return badge('Disabled', 'neutral');
  if (w.status === 'failing') {
    const next = w.next_attempt_at ? new Date(w.next_attempt_at) : null;
    const when = next ? (fmtRelative(next) || next.toLocaleString()) : '';
    return badge(`Failing (${w.failures})`, 'danger', `${w.last_error || 'Delivery failed'}${when ? ` · next attempt ${when}` : ''}`);
  }
  return badge('Active', 'success');
}

export async function renderWebhooks(ctx) {
  const { app, content } = ctx;
  const list = (await api.get('/webhooks')) || [];
  if (!ctx.isCurrent()) return;
  const addBtn = () => h('button', { type: 'button', class: 'btn btn-primary', id: 'add-webhook', onclick: () => openWebhookDialog(ctx) }, '+ Add webhook');
  const columns = [
    { label: 'Endpoint', cell: (w) => h('code', { class: 'mono small' }, breakable(w.url)) },
    { label: 'Events', cell: (w) => h('span', { class: 'badge-row' }, (w.events || []).map((e) => badge(e, 'neutral'))) },
    {
      label: 'Status',
      cell: (w) => [statusBadge(w), w.enabled && w.last_error ? h('div', { class: 'small muted', dataset: { lastError: '' } }, w.last_error) : null],
    },
    { label: 'Created', cell: (w) => time(w.created_at) },
    {
      label: '', sr: 'Actions', class: 'cell-actions',
      cell: (w) => [
        h('button', {
          type: 'button', class: 'btn btn-sm', 'aria-label': `Deliveries to ${w.url}`, dataset: { action: 'deliveries', webhookId: w.id },
          onclick: () => openDeliveries(w),
        }, 'Deliveries'),
        app.canEdit ? ' ' : null,
        app.canEdit ? webhookMenu(ctx, w) : null,
      ],
    },
  ];
  const empty = list.length === 0;
  clear(content,
    pageHeader('Webhooks',
      'Tessera calls these endpoints when your users’ sessions are created, refreshed, revoked or denied: in order, at least once, each request signed with a secret only your endpoint knows.',
      app.canEdit && !empty ? [addBtn()] : []),
    readonlyNote(app),
    empty
      ? emptyState(app.canEdit
        ? 'No webhooks yet. Add the URL of an endpoint of yours to hear about session events as they happen, e.g. to end the user’s own session when Tessera revokes theirs.'
        : 'No webhooks yet. An owner or admin can add endpoints that hear about session events.',
      app.canEdit ? addBtn() : null)
      : table(columns, list, { caption: 'Webhooks', rowAttrs: (w) => ({ dataset: { webhookId: w.id, status: w.enabled ? w.status : 'disabled' } }) }),
    verifyCard());
}

function verifyCard() {
  const code = h('code', { class: 'mono', id: 'webhook-verify-snippet' }, VERIFY_SNIPPET);
  return h('section', { class: 'card snippet-card', 'aria-labelledby': 'webhook-verify-title' },
    h('h2', { class: 'card-title', id: 'webhook-verify-title' }, 'Verifying a delivery'),
    h('p', { class: 'card-desc' }, 'Each request carries ', h('code', {}, 'Tessera-Signature: t=<unix time>,v1=<hex>'),
      ': an HMAC-SHA256, keyed with the webhook’s secret, of the time, a dot and the raw body. Check it before trusting the body, refuse old times, and deduplicate on the event ',
      h('code', {}, 'id'), ' (a retry sends the same one).'),
    h('div', { class: 'code-block' },
      h('div', { class: 'code-toolbar' }, h('span', {}, 'Node.js'),
        copyButton(() => code.textContent, { fallbackEl: code, what: 'Snippet copied' })),
      h('pre', { class: 'code', tabindex: '0', 'aria-label': 'Signature verification code' }, code)));
}

function webhookMenu(ctx, w) {
  return menuButton({
    content: icon('dots'),
    ariaLabel: `Actions for ${w.url}`,
    dataset: { webhookMenu: w.id },
    items: () => [
      { label: 'Send test', dataset: { action: 'test-webhook' }, onSelect: () => sendTest(ctx, w) },
      { label: 'Edit', dataset: { action: 'edit-webhook' }, onSelect: () => openWebhookDialog(ctx, w) },
      { label: 'Rotate secret', dataset: { action: 'rotate-webhook-secret' }, onSelect: () => rotateSecret(ctx, w) },
      { label: w.enabled ? 'Disable' : 'Enable', dataset: { action: 'toggle-webhook' }, onSelect: () => setEnabled(ctx, w, !w.enabled) },
      'separator',
      { label: 'Delete', danger: true, dataset: { action: 'delete-webhook' }, onSelect: () => deleteWebhook(ctx, w) },
    ],
  });
}

// Add (w null) or edit the URL and the event types. Edit sends only what changed.
function openWebhookDialog(ctx, w = null) {
  const editing = w !== null;
  const url = h('input', { type: 'url', id: 'webhook-url', value: editing ? w.url : '', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://api.example.com/tessera-events' });
  const chosen = new Set(editing ? w.events : EVENT_TYPES.map((e) => e.id));
  const boxId = (e) => `webhook-event-${e.id.replace('.', '-')}`;
  // The group's error sits under the boxes; setFieldError finds it as "<first box id>-error".
  const errId = `${boxId(EVENT_TYPES[0])}-error`;
  const boxes = EVENT_TYPES.map((e) => h('input', {
    type: 'checkbox', id: boxId(e), value: e.id, checked: chosen.has(e.id),
    'aria-describedby': `${boxId(e)}-desc ${errId}`,
  }));
  const eventsGroup = h('fieldset', { class: 'field fieldset', id: 'webhook-events', dataset: { field: 'events' } },
    h('legend', { class: 'field-label' }, 'Events'),
    EVENT_TYPES.map((e, i) => h('div', {},
      h('span', { class: 'check' }, boxes[i], h('label', { for: boxes[i].id }, e.id)),
      ' ', h('span', { class: 'small muted', id: `${boxId(e)}-desc` }, `— ${e.desc}`))),
    h('p', { class: 'field-error', id: errId, hidden: true }));
  for (const b of boxes) b.addEventListener('change', () => setFieldError(boxes[0], ''));
  const events = () => boxes.filter((b) => b.checked).map((b) => b.value);

  const dlg = formDialog({
    title: editing ? 'Edit webhook' : 'Add webhook',
    id: editing ? 'edit-webhook-dialog' : 'add-webhook-dialog',
    submitLabel: editing ? 'Save' : 'Add',
    wide: true,
    onClose: () => { if (dlg.created && ctx.isCurrent()) ctx.app.refresh(); },
    fields: [
      {
        control: url,
        node: field('Endpoint URL', url, { hint: 'Tessera POSTs JSON here. https:// only (http:// only to localhost, for development).', name: 'url' }),
        pattern: /\burl\b/i,
      },
      { control: boxes[0], node: eventsGroup, pattern: /event/i },
    ],
    validate() {
      const p = [];
      if (!url.value.trim()) p.push([url, 'Enter the URL of your endpoint, e.g. https://api.example.com/tessera-events']);
      if (events().length === 0) p.push([boxes[0], 'Choose at least one event type.']);
      return p;
    },
    async onSubmit(ctl) {
      const body = {};
      if (!editing) {
        body.url = url.value.trim();
        body.events = events();
        const created = await api.post('/webhooks', body);
        showSecret(dlg, created, 'Webhook added');
        return;
      }
      if (url.value.trim() !== w.url) body.url = url.value.trim();
      if (events().join() !== (w.events || []).join()) body.events = events();
      if (Object.keys(body).length === 0) {
        ctl.close();
        toast('No changes to save');
        return;
      }
      await api.patch(`/webhooks/${api.seg(w.id)}`, body);
      ctl.close();
      toast('Webhook saved');
      if (ctx.isCurrent()) ctx.app.refresh();
    },
  });
}

// Replaces the dialog's body by the one-time secret. It lives only in this dialog's DOM.
function showSecret(dlg, res, title) {
  dlg.created = true;
  dlg.setTitle(title);
  const value = h('code', { id: 'new-webhook-secret', class: 'secret-value mono', tabindex: '0' }, res.secret);
  const copy = copyButton(() => value.textContent, { fallbackEl: value, what: 'Secret copied to the clipboard' });
  const done = h('button', { type: 'button', class: 'btn btn-primary', id: 'webhook-done', onclick: () => dlg.close() }, 'Done');
  clear(dlg.body,
    h('div', { class: 'created-token', 'data-created-webhook': res.id || '' },
      h('div', { class: 'note note-warn', role: 'alert', id: 'webhook-secret-warning' }, icon('warn'), h('span', {}, SECRET_WARNING)),
      h('p', { class: 'created-meta' }, h('code', { class: 'mono small' }, breakable(res.url))),
      h('div', { class: 'secret-row' }, value, copy),
      h('p', { class: 'field-hint' }, 'Your endpoint checks the ', h('code', {}, 'Tessera-Signature'),
        ' header of each request with it (see “Verifying a delivery” on this page). Keep it on your server only.'),
      h('div', { class: 'dialog-actions' }, done)));
  copy.focus();
}

async function sendTest(ctx, w) {
  toast('Sending a test event…');
  try {
    const r = await api.post(`/webhooks/${api.seg(w.id)}/test`);
    if (r.delivered) toast(`Test delivered: HTTP ${r.status_code} in ${r.duration_ms} ms`);
    else toast(`Test not delivered: ${r.error || `HTTP ${r.status_code}`}`, 'error');
  } catch (err) {
    toast(`Could not send a test: ${api.errorMessage(err)}`, 'error');
  }
}

function rotateSecret(ctx, w) {
  const dlg = formDialog({
    id: 'rotate-webhook-secret-dialog',
    title: 'Rotate the signing secret?',
    intro: h('div', { class: 'confirm-text' },
      h('p', {}, 'Tessera makes a new secret and signs the next deliveries with it; the current one stops working at once.'),
      h('p', {}, 'To miss nothing, let your endpoint accept both secrets until it has the new one.')),
    submitLabel: 'Rotate secret',
    danger: true,
    fields: [],
    onClose: () => { if (dlg.created && ctx.isCurrent()) ctx.app.refresh(); },
    async onSubmit() {
      const res = await api.post(`/webhooks/${api.seg(w.id)}/rotate-secret`);
      showSecret(dlg, res, 'New signing secret');
    },
  });
}

async function setEnabled(ctx, w, enabled) {
  try {
    await api.patch(`/webhooks/${api.seg(w.id)}`, { enabled });
    toast(enabled ? 'Webhook enabled: events from now on are sent' : 'Webhook disabled: no events are sent');
  } catch (err) {
    toast(api.errorMessage(err), 'error');
  }
  if (ctx.isCurrent()) ctx.app.refresh();
}

function deleteWebhook(ctx, w) {
  confirmDialog({
    id: 'delete-webhook-dialog',
    title: 'Delete this webhook?',
    message: [
      `Tessera stops calling ${w.url}, and its delivery log is erased.`,
      'This cannot be undone.',
    ],
    confirmLabel: 'Delete',
    async action() {
      await api.del(`/webhooks/${api.seg(w.id)}`);
      toast('Webhook deleted');
      if (ctx.isCurrent()) ctx.app.refresh();
    },
  });
}

// The delivery log of one webhook, newest first, in a dialog with a Refresh button.
function openDeliveries(w) {
  openDialog({
    title: 'Deliveries',
    id: 'webhook-deliveries-dialog',
    wide: true,
    build(ctl) {
      const area = h('div', { class: 'deliveries' });
      const refresh = h('button', { type: 'button', class: 'btn btn-sm', id: 'refresh-deliveries' }, 'Refresh');
      const load = async () => {
        clear(area, loading());
        try {
          const list = (await api.get(`/webhooks/${api.seg(w.id)}/deliveries?limit=100`)) || [];
          if (!area.isConnected && !ctl.el.isConnected) return;
          clear(area, list.length === 0
            ? emptyState('No deliveries yet. Events are sent within a second of happening; “Send test” in the … menu sends one now.')
            : table([
              { label: 'Time', cell: (d) => time(d.at, 'precise') },
              { label: 'Event', cell: (d) => [h('div', {}, d.event_type), h('code', { class: 'mono small muted' }, d.event_id)] },
              { label: 'Attempt', class: 'num', cell: (d) => String(d.attempt) },
              {
                label: 'Result',
                cell: (d) => [d.error ? badge('Failed', 'danger') : badge('Delivered', 'success'),
                  h('div', { class: 'small muted' }, `${d.status_code === null ? 'no response' : `HTTP ${d.status_code}`} · ${d.duration_ms} ms`)],
              },
              { label: 'Error', cell: (d) => (d.error ? h('span', { class: 'small' }, d.error) : h('span', { class: 'muted' }, '—')) },
            ], list, { caption: 'Deliveries', rowAttrs: (d) => ({ dataset: { deliveryId: d.id, result: d.error ? 'failed' : 'delivered' } }) }));
        } catch (err) {
          clear(area, errorState(err, load));
        }
      };
      refresh.addEventListener('click', load);
      load();
      return h('div', {},
        h('p', { class: 'card-desc' }, 'The last attempts to deliver to ', h('code', { class: 'mono small' }, breakable(w.url)),
          ', newest first. After a failure Tessera retries the same event after 1 s, 2 s, 4 s … up to 10 minutes; later events wait for it.'),
        h('div', { class: 'dialog-actions' }, refresh),
        area);
    },
  });
}

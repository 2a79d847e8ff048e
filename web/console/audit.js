// Audit log: newest first, filters (action, actor, since), export as JSON lines.
// Filters live in the hash: #/settings/audit?action=token.created&actor=...&since=2026-01-31

import * as api from './api.js';
import { h, clear, pageHeader, table, time, emptyState, isoInstant, toast, formError, showFormError, newId } from './ui.js';
import { memberDirectory } from './members.js';

const LIMITS = [50, 200, 1000];

function sinceInstant(yyyyMmDd) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(yyyyMmDd || '')) return '';
  const [y, m, d] = yyyyMmDd.split('-').map(Number);
  return isoInstant(new Date(y, m - 1, d));   // local midnight
}

export async function renderAudit(ctx) {
  const { content, query } = ctx;
  const f = {
    action: query.get('action') || '',
    actor: query.get('actor') || '',
    since: query.get('since') || '',
    limit: LIMITS.includes(Number(query.get('limit'))) ? Number(query.get('limit')) : 200,
  };
  const qs = new URLSearchParams();
  if (f.action) qs.set('action', f.action);
  if (f.actor) qs.set('actor', f.actor);
  if (f.since) qs.set('since', sinceInstant(f.since));
  qs.set('limit', String(f.limit));
  const [events, who] = await Promise.all([api.get(`/audit?${qs}`), memberDirectory()]);
  if (!ctx.isCurrent()) return;
  const list = events || [];

  // Filters
  const actionsId = newId('actions');
  const action = h('input', { type: 'text', id: 'audit-action', value: f.action, list: actionsId, autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. token.created' });
  const actions = h('datalist', { id: actionsId }, [...new Set(list.map((e) => e.action))].sort().map((a) => h('option', { value: a })));
  const actor = h('input', { type: 'text', id: 'audit-actor', value: f.actor, autocomplete: 'off', spellcheck: 'false', placeholder: 'user id or email' });
  const since = h('input', { type: 'date', id: 'audit-since', value: f.since });
  const limit = h('select', { id: 'audit-limit', class: 'select' }, LIMITS.map((n) => h('option', { value: String(n), selected: n === f.limit }, `Newest ${n}`)));
  const filters = h('form', { class: 'filters', id: 'audit-filters', novalidate: true, 'aria-label': 'Filter the audit log' },
    h('div', { class: 'field' }, h('label', { for: action.id, class: 'field-label' }, 'Action'), action, actions),
    h('div', { class: 'field' }, h('label', { for: actor.id, class: 'field-label' }, 'Actor'), actor),
    h('div', { class: 'field' }, h('label', { for: since.id, class: 'field-label' }, 'Since'), since),
    h('div', { class: 'field' }, h('label', { for: limit.id, class: 'field-label' }, 'Show'), limit),
    h('div', { class: 'filters-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'audit-apply' }, 'Apply filters'),
      h('button', { type: 'button', class: 'btn', id: 'audit-clear', onclick: () => ctx.app.navigate('#/settings/audit') }, 'Clear')));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (action.value.trim()) p.set('action', action.value.trim());
    if (actor.value.trim()) p.set('actor', actor.value.trim());
    if (since.value) p.set('since', since.value);
    if (limit.value !== '200') p.set('limit', limit.value);
    const s = p.toString();
    ctx.app.navigate(`#/settings/audit${s ? `?${s}` : ''}`);
  });

  // Export
  const exportErr = formError();
  exportErr.id = 'audit-export-error';
  const exportBtn = h('button', { type: 'button', class: 'btn', id: 'audit-export' }, 'Export JSON lines');
  exportBtn.addEventListener('click', async () => {
    showFormError(exportErr, '');
    exportBtn.disabled = true;
    exportBtn.textContent = 'Exporting…';
    try {
      const p = f.since ? `?since=${encodeURIComponent(sinceInstant(f.since))}` : '';
      const res = await api.get(`/audit/export${p}`, { raw: true });
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const stamp = new Date().toISOString().slice(0, 10);
      const a = h('a', { href: url, download: `tessera-audit-${stamp}.jsonl`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      toast('Audit log exported');
    } catch (err) {
      if (err.status !== 401) showFormError(exportErr, `Export failed: ${api.errorMessage(err)}`);
    } finally {
      exportBtn.disabled = false;
      exportBtn.textContent = 'Export JSON lines';
    }
  });

  const columns = [
    { label: 'Time', cell: (e) => time(e.at, 'precise') },
    { label: 'Actor', cell: (e) => who(e.actor) },
    { label: 'Action', cell: (e) => h('code', { class: 'mono small' }, e.action) },
    { label: 'Target', cell: (e) => (e.target ? h('span', { class: 'mono small audit-target', title: String(e.target) }, String(e.target)) : h('span', { class: 'muted' }, '—')) },
    { label: 'Client', cell: (e) => (e.client ? h('span', { class: 'small' }, String(e.client)) : h('span', { class: 'muted' }, '—')) },
    {
      label: 'Details',
      cell: (e) => {
        const detail = { ...(e.detail && typeof e.detail === 'object' ? e.detail : e.detail ? { detail: e.detail } : {}) };
        if (e.target) detail.target = e.target;
        if (e.request_id) detail.request_id = e.request_id;
        detail.id = e.id;
        return h('details', { class: 'audit-detail' }, h('summary', {}, 'Show'), h('pre', { class: 'code code-sm' }, JSON.stringify(detail, null, 2)));
      },
    },
  ];
  const filtered = Boolean(f.action || f.actor || f.since);
  clear(content,
    pageHeader('Audit log', 'Every change and every session token issued, newest first.', [exportBtn]),
    exportErr,
    filters,
    list.length === 0
      ? emptyState(filtered ? 'No events match these filters.' : 'No events yet.')
      : [h('p', { class: 'muted small', id: 'audit-count' }, `${list.length} event${list.length === 1 ? '' : 's'}${list.length >= f.limit ? ` (the newest ${f.limit}; narrow the filters or export to see more)` : ''}`),
        table(columns, list, { className: 'audit-table', caption: 'Audit events', rowAttrs: (e) => ({ dataset: { eventId: e.id, action: e.action } }) })]);
}

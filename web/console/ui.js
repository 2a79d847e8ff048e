// Small DOM toolkit for the console: element builder, dialogs, menus, tabs, toasts, copy,
// formatting. Text always goes in through textContent: nothing from the server is parsed as HTML.

import { errorMessage } from './api.js';

// h('button', {class: 'btn', onclick: fn, 'aria-label': 'x'}, 'text', child, [more])
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'value' || k === 'checked' || k === 'indeterminate') el[k] = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.append(c);
    else el.append(document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
export const newId = (p = 'id') => `${p}-${++uid}`;

// ---------------------------------------------------------------------------------------------
// Formatting

const dateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
});

function parseTime(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function fmtRelative(d) {
  const s = Math.round((d.getTime() - Date.now()) / 1000);
  const abs = Math.abs(s);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (abs < 45) return s <= 0 ? 'just now' : 'in a few seconds';
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  if (abs < 86400 * 30) return rtf.format(Math.round(s / 86400), 'day');
  return null;
}

// <time> with the full date and time in its title. mode: 'date' | 'datetime' | 'relative' | 'precise'
export function time(iso, mode = 'date', empty = '—') {
  const d = parseTime(iso);
  if (!d) return h('span', { class: 'muted' }, empty);
  let label = mode === 'datetime' ? dateTimeFmt.format(d) : dateFmt.format(d);
  if (mode === 'relative') label = fmtRelative(d) || dateFmt.format(d);
  if (mode === 'precise') {
    const p = (n) => String(n).padStart(2, '0');
    label = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }
  return h('time', { datetime: iso, title: dateTimeFmt.format(d) }, label);
}

export function isPast(iso) {
  const d = parseTime(iso);
  return d !== null && d.getTime() <= Date.now();
}

export function fmtBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function initials(name, email) {
  const src = (name || '').trim();
  if (src) {
    const parts = src.split(/\s+/).filter(Boolean);
    const a = parts[0] ? [...parts[0]][0] : '';
    const b = parts.length > 1 ? [...parts[parts.length - 1]][0] : '';
    return (a + b).toUpperCase() || '?';
  }
  return ((email || '?')[0] || '?').toUpperCase();
}

// yyyy-mm-dd of a Date in local time (for <input type=date>).
export function isoDate(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

// ISO 8601 in UTC without milliseconds: 2026-03-04T22:59:59Z
export function isoInstant(d) {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------
// Page pieces

export function icon(name) {
  // A few inline SVG icons (built with DOM calls; no innerHTML).
  const paths = {
    plus: 'M12 5v14M5 12h14',
    copy: 'M9 9h10v10H9zM5 15V5h10',
    dots: '',
    check: 'M5 12l5 5 9-10',
    back: 'M15 18l-6-6 6-6',
    upload: 'M12 16V4M7 9l5-5 5 5M5 20h14',
    warn: 'M12 3l10 18H2zM12 10v5M12 18v.01',
  };
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', `icon icon-${name}`);
  if (name === 'dots') {
    for (const cx of [5, 12, 19]) {
      const c = document.createElementNS('http://www.w3.org/2000/svg', 'circle');
      c.setAttribute('cx', cx); c.setAttribute('cy', 12); c.setAttribute('r', 1.8);
      svg.append(c);
    }
  } else {
    const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    p.setAttribute('d', paths[name] || '');
    svg.append(p);
  }
  return svg;
}

export function pageHeader(title, description, actions = []) {
  return h('header', { class: 'page-header' },
    h('div', { class: 'page-heading' },
      h('h1', { tabindex: '-1', class: 'page-title' }, title),
      description ? h('p', { class: 'page-desc' }, description) : null),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}

export function loading(text = 'Loading…') {
  return h('div', { class: 'state state-loading', role: 'status', 'data-state': 'loading' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, text));
}

export function errorState(err, retry) {
  return h('div', { class: 'state state-error', role: 'alert', 'data-state': 'error' },
    h('p', {}, errorMessage(err)),
    retry ? h('button', { class: 'btn', type: 'button', onclick: retry }, 'Try again') : null);
}

export function emptyState(text, extra) {
  return h('div', { class: 'state state-empty', 'data-state': 'empty' }, h('p', {}, text), extra || null);
}

export function badge(text, kind = 'neutral', title) {
  return h('span', { class: `badge badge-${kind}`, title }, text);
}

export function readonlyNote(app) {
  if (app.canEdit) return null;
  return h('p', { class: 'note note-readonly', 'data-readonly': '' },
    `Read-only: your role (${app.user.role}) can view settings but not change them. Ask an owner or admin.`);
}

// A table; columns: [{label, class, cell: (row) => node|string}]
export function table(columns, rows, { rowAttrs, caption, className } = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: `table${className ? ` ${className}` : ''}` },
      caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) =>
        h('th', { scope: 'col', class: c.class }, c.label === '' ? h('span', { class: 'visually-hidden' }, c.sr || 'Actions') : c.label)))),
      h('tbody', {}, rows.map((r) =>
        h('tr', rowAttrs ? rowAttrs(r) : null, columns.map((c) => h('td', { class: c.class }, c.cell(r))))))));
}

// ---------------------------------------------------------------------------------------------
// Toasts and copying

// The region is a manual popover so that it sits in the top layer, above open dialogs too.
export function toast(text, kind = 'info') {
  const region = document.getElementById('toasts');
  if (!region) return;
  const t = h('div', { class: `toast toast-${kind}` }, text);
  while (region.children.length >= 3) region.firstElementChild.remove();
  region.append(t);
  if (typeof region.showPopover === 'function') {
    try {
      if (region.matches(':popover-open') && document.querySelector('dialog[open]')) region.hidePopover();
      if (!region.matches(':popover-open')) region.showPopover();
    } catch (_) { /* popover unsupported: it stays a fixed element */ }
  }
  setTimeout(() => t.classList.add('toast-out'), 2600);
  setTimeout(() => t.remove(), 3000);
}

export async function copyText(text) {
  try {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (_) { /* fall back below (e.g. plain http on a non-local host) */ }
  const host = document.querySelector('dialog[open]') || document.body;
  const ta = h('textarea', { class: 'visually-hidden', readonly: true, 'aria-hidden': 'true' });
  ta.value = text;
  host.append(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch (_) { ok = false; }
  ta.remove();
  return ok;
}

// Select an element's text so the user can press Ctrl+C when the clipboard is unavailable.
export function selectText(el) {
  const range = document.createRange();
  range.selectNodeContents(el);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
}

// A "Copy" button: copies getText() and shows "Copied" for a moment.
export function copyButton(getText, { label = 'Copy', ariaLabel, fallbackEl, what = 'Copied', id, small } = {}) {
  const btn = h('button', { type: 'button', class: `btn btn-copy${small ? ' btn-sm' : ''}`, 'aria-label': ariaLabel, id },
    icon('copy'), h('span', { class: 'btn-label' }, label));
  let timer = null;
  btn.addEventListener('click', async () => {
    const ok = await copyText(getText());
    const lbl = btn.querySelector('.btn-label');
    clearTimeout(timer);
    if (ok) {
      lbl.textContent = 'Copied';
      btn.classList.add('is-copied');
      if (ariaLabel) btn.setAttribute('aria-label', 'Copied');
      toast(what === 'Copied' ? 'Copied to the clipboard' : what);
    } else {
      lbl.textContent = 'Press Ctrl+C';
      if (fallbackEl) selectText(fallbackEl);
      toast('The clipboard is not available here: the text is selected, press Ctrl+C (⌘C) to copy it.', 'warn');
    }
    timer = setTimeout(() => {
      lbl.textContent = label;
      btn.classList.remove('is-copied');
      if (ariaLabel) btn.setAttribute('aria-label', ariaLabel);
    }, 2000);
  });
  return btn;
}

// ---------------------------------------------------------------------------------------------
// Dialogs: native <dialog> opened modally (focus trapped, Escape closes). While one is open the
// page behind it is aria-hidden. Focus goes back to the opener when it closes.

export function openDialog({ title, id, wide, build, onClose, canClose }) {
  const opener = document.activeElement;
  const titleId = newId('dlg-title');
  const dlg = h('dialog', { class: `dialog${wide ? ' dialog-wide' : ''}`, id, 'aria-labelledby': titleId });
  const heading = h('h2', { id: titleId, class: 'dialog-title' }, title);
  const closeBtn = h('button', { type: 'button', class: 'btn-icon dialog-x', 'aria-label': 'Close' }, '×');
  const body = h('div', { class: 'dialog-body' });
  dlg.append(h('div', { class: 'dialog-head' }, heading, closeBtn), body);
  let closed = false;
  const ctl = {
    el: dlg,
    body,
    setTitle: (t) => { heading.textContent = t; },
    close() {
      if (closed) return;
      closed = true;
      dlg.close();
      dlg.remove();
      if (!document.querySelector('dialog[open]')) document.getElementById('app')?.removeAttribute('aria-hidden');
      if (onClose) onClose();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
    },
    focusFirst() {
      const target = dlg.querySelector('[autofocus]') ||
        body.querySelector('input:not([type=hidden]):not([disabled]), select, textarea, button:not([disabled])');
      (target || closeBtn).focus();
    },
  };
  closeBtn.addEventListener('click', () => { if (!canClose || canClose()) ctl.close(); });
  dlg.addEventListener('cancel', (e) => {
    e.preventDefault();                       // we close (and clean up) ourselves
    if (!canClose || canClose()) ctl.close();
  });
  append(body, [build(ctl)]);
  document.body.append(dlg);
  document.getElementById('app')?.setAttribute('aria-hidden', 'true');
  dlg.showModal();
  ctl.focusFirst();
  return ctl;
}

// Labelled form field. control: an input/select/textarea (its id is set here).
export function field(label, control, { hint, id, name } = {}) {
  const cid = control.id || id || newId('f');
  control.id = cid;
  const errId = `${cid}-error`;
  const hintId = hint ? `${cid}-hint` : null;
  if (hintId) control.setAttribute('aria-describedby', `${hintId} ${errId}`);
  else control.setAttribute('aria-describedby', errId);
  const wrap = h('div', { class: 'field', dataset: { field: name || cid } },
    h('label', { for: cid, class: 'field-label' }, label),
    control,
    hint ? h('p', { class: 'field-hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errId, hidden: true }));
  return wrap;
}

export function setFieldError(control, message) {
  const err = document.getElementById(`${control.id}-error`);
  if (!err) return;
  if (message) {
    err.textContent = message;
    err.hidden = false;
    control.setAttribute('aria-invalid', 'true');
  } else {
    err.textContent = '';
    err.hidden = true;
    control.removeAttribute('aria-invalid');
  }
}

export function formError() {
  return h('div', { class: 'form-error', role: 'alert', hidden: true });
}

export function showFormError(el, message) {
  el.textContent = message || '';
  el.hidden = !message;
}

// A dialog holding a form. fields: [{key, control, node, pattern}] where pattern matches a server
// error description that belongs to that field. onSubmit(values) may throw: the error is shown by
// the field it names, else at the bottom of the dialog; the dialog stays open.
export function formDialog({ title, id, submitLabel, danger, intro, fields, onSubmit, validate, wide, onClose, cancelLabel = 'Cancel' }) {
  let busy = false;
  return openDialog({
    title, id, wide, onClose,
    canClose: () => !busy,
    build(ctl) {
      const errBox = formError();
      const submit = h('button', { type: 'submit', class: `btn ${danger ? 'btn-danger' : 'btn-primary'}` }, submitLabel);
      const cancel = h('button', { type: 'button', class: 'btn', onclick: () => { if (!busy) ctl.close(); } }, cancelLabel);
      const form = h('form', { class: 'form', novalidate: true },
        intro || null,
        fields.map((f) => f.node),
        errBox,
        h('div', { class: 'dialog-actions' }, cancel, submit));
      ctl.form = form;
      ctl.errBox = errBox;
      for (const f of fields) {
        if (f.control) f.control.addEventListener('input', () => setFieldError(f.control, ''));
      }
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        if (busy) return;
        for (const f of fields) if (f.control) setFieldError(f.control, '');
        showFormError(errBox, '');
        if (validate) {
          const problems = validate();
          if (problems && problems.length) {
            for (const [ctrl, msg] of problems) {
              if (ctrl) setFieldError(ctrl, msg); else showFormError(errBox, msg);
            }
            const first = problems.find(([c]) => c);
            if (first) first[0].focus();
            return;
          }
        }
        busy = true;
        submit.disabled = true;
        cancel.disabled = true;
        form.setAttribute('aria-busy', 'true');
        const label = submit.textContent;
        submit.textContent = `${label}…`;
        try {
          await onSubmit(ctl);
        } catch (err) {
          const msg = errorMessage(err);
          const f = fields.find((x) => x.control && x.pattern && x.pattern.test((err && err.description) || ''));
          if (f) { setFieldError(f.control, msg); f.control.focus(); } else showFormError(errBox, msg);
        } finally {
          busy = false;
          if (submit.isConnected) {
            submit.disabled = false;
            cancel.disabled = false;
            submit.textContent = label;
            form.removeAttribute('aria-busy');
          }
        }
      });
      return form;
    },
  });
}

// Confirmation dialog running action(); errors show inside it.
export function confirmDialog({ title, message, confirmLabel, danger = true, action, id }) {
  return formDialog({
    title, id, submitLabel: confirmLabel, danger,
    intro: Array.isArray(message) ? h('div', { class: 'confirm-text' }, message.map((m) => h('p', {}, m)))
      : h('p', { class: 'confirm-text' }, message),
    fields: [],
    async onSubmit(ctl) {
      await action();
      ctl.close();
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Menus: a button that opens a role=menu popup (fixed position, so tables never clip it).
// items: [{label, onSelect, danger, disabled, id}] or 'separator'.

let openMenu = null;

export function closeMenus() {
  if (openMenu) openMenu.close(false);
}

export function menuButton({ content, ariaLabel, className = 'btn-icon', items, id, header, align = 'end', dataset }) {
  const btn = h('button', {
    type: 'button', class: className, 'aria-haspopup': 'menu', 'aria-expanded': 'false',
    'aria-label': ariaLabel, id, dataset, title: ariaLabel,
  }, content);
  const menuId = newId('menu');
  btn.setAttribute('aria-controls', menuId);

  function open(focusLast = false) {
    closeMenus();
    const list = typeof items === 'function' ? items() : items;
    const menu = h('div', { class: 'menu', role: 'menu', id: menuId, 'aria-label': ariaLabel || undefined });
    if (header) menu.append(header());
    const entries = [];
    for (const it of list) {
      if (it === 'separator') { menu.append(h('div', { class: 'menu-sep', role: 'separator' })); continue; }
      const mi = h('button', {
        type: 'button', role: 'menuitem', class: `menu-item${it.danger ? ' menu-item-danger' : ''}`,
        tabindex: '-1', disabled: it.disabled || false, id: it.id, dataset: it.dataset,
      }, it.label);
      mi.addEventListener('click', () => {
        state.close(true);
        it.onSelect();
      });
      entries.push(mi);
      menu.append(mi);
    }
    document.body.append(menu);
    const r = btn.getBoundingClientRect();
    const mw = menu.offsetWidth;
    let left = align === 'start' ? r.left : r.right - mw;
    left = Math.max(8, Math.min(left, window.innerWidth - mw - 8));
    let top = r.bottom + 4;
    if (top + menu.offsetHeight > window.innerHeight - 8) top = Math.max(8, r.top - menu.offsetHeight - 4);
    menu.style.left = `${left}px`;
    menu.style.top = `${top}px`;
    btn.setAttribute('aria-expanded', 'true');
    const enabled = () => entries.filter((e) => !e.disabled);
    const focusAt = (i) => { const en = enabled(); if (en.length) en[(i + en.length) % en.length].focus(); };
    menu.addEventListener('keydown', (e) => {
      const en = enabled();
      const i = en.indexOf(document.activeElement);
      if (e.key === 'ArrowDown') { e.preventDefault(); focusAt(i + 1); }
      else if (e.key === 'ArrowUp') { e.preventDefault(); focusAt(i - 1); }
      else if (e.key === 'Home') { e.preventDefault(); focusAt(0); }
      else if (e.key === 'End') { e.preventDefault(); focusAt(-1); }
      else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); state.close(true); }
      else if (e.key === 'Tab') { state.close(false); }
    });
    const onDoc = (e) => { if (!menu.contains(e.target) && e.target !== btn && !btn.contains(e.target)) state.close(false); };
    const onScroll = (e) => { if (!menu.contains(e.target)) state.close(false); };
    const state = {
      close(refocus) {
        if (openMenu !== state) return;
        openMenu = null;
        menu.remove();
        btn.setAttribute('aria-expanded', 'false');
        document.removeEventListener('mousedown', onDoc, true);
        window.removeEventListener('scroll', onScroll, true);
        window.removeEventListener('resize', onResize);
        if (refocus && btn.isConnected) btn.focus();
      },
    };
    const onResize = () => state.close(false);
    document.addEventListener('mousedown', onDoc, true);
    window.addEventListener('scroll', onScroll, true);
    window.addEventListener('resize', onResize);
    openMenu = state;
    focusAt(focusLast ? -1 : 0);
  }

  btn.addEventListener('click', () => {
    if (openMenu && btn.getAttribute('aria-expanded') === 'true') closeMenus(); else open();
  });
  btn.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') { e.preventDefault(); open(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); open(true); }
  });
  return btn;
}

// ---------------------------------------------------------------------------------------------
// Tabs: [{id, label, render: (panel) => void}]. Arrow keys move between tabs.

export function tabs(list, { selected, onChange, label, idPrefix = newId('tabs') } = {}) {
  const tablist = h('div', { role: 'tablist', class: 'tabs', 'aria-label': label });
  const panels = h('div', { class: 'tab-panels' });
  const btns = [];
  const rendered = new Set();
  let current = null;
  function select(id, focus) {
    current = id;
    for (const b of btns) {
      const on = b.dataset.tab === id;
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      b.tabIndex = on ? 0 : -1;
      if (on && focus) b.focus();
    }
    for (const p of panels.children) p.hidden = p.dataset.tab !== id;
    const t = list.find((x) => x.id === id);
    if (t && !rendered.has(id)) { rendered.add(id); t.render(panels.querySelector(`[data-tab="${id}"]`)); }
    if (onChange) onChange(id);
  }
  for (const t of list) {
    const tabId = `${idPrefix}-tab-${t.id}`;
    const panelId = `${idPrefix}-panel-${t.id}`;
    const b = h('button', {
      type: 'button', role: 'tab', class: 'tab', id: tabId, 'aria-controls': panelId,
      dataset: { tab: t.id },
    }, t.label);
    b.addEventListener('click', () => select(t.id));
    b.addEventListener('keydown', (e) => {
      const i = btns.indexOf(b);
      let j = null;
      if (e.key === 'ArrowRight') j = (i + 1) % btns.length;
      else if (e.key === 'ArrowLeft') j = (i - 1 + btns.length) % btns.length;
      else if (e.key === 'Home') j = 0;
      else if (e.key === 'End') j = btns.length - 1;
      if (j !== null) { e.preventDefault(); select(btns[j].dataset.tab, true); }
    });
    btns.push(b);
    tablist.append(b);
    panels.append(h('div', { role: 'tabpanel', id: panelId, 'aria-labelledby': tabId, class: 'tab-panel', dataset: { tab: t.id }, hidden: true }));
  }
  const root = h('div', { class: 'tabs-root' }, tablist, panels);
  select(selected && list.some((t) => t.id === selected) ? selected : list[0].id);
  return { el: root, select: (id) => select(id), current: () => current };
}

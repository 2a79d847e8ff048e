// Applications: list and create; the application page (mode, allowed origins, versions, deploy
// a bundle from chosen files, embed snippets).

import * as api from './api.js';
import {
  h, clear, pageHeader, table, time, badge, emptyState, readonlyNote, formDialog, field, toast,
  copyButton, tabs, setFieldError, fmtBytes, loading, errorState, icon, formError, showFormError,
} from './ui.js';
import { memberDirectory } from './members.js';

export const MODES = [
  { id: 'sso', label: 'SSO', desc: 'Your backend signs users in and requests a session token with an Embed access token.' },
  { id: 'private', label: 'Private', desc: 'Users sign in with their Tessera email and password inside the embed.' },
  { id: 'public', label: 'Public', desc: 'Anyone can open the app; no sign-in.' },
];
const modeLabel = (m) => (MODES.find((x) => x.id === m) || { label: m || '—' }).label;
const MAX_BUNDLE = 16 * 1024 * 1024;

// One origin per line → [origins] or throws {line} naming the first bad one.
export function parseOrigins(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    let u = null;
    try { u = new URL(line); } catch (_) { u = null; }
    if (!u || !/^https?:$/.test(u.protocol) || u.pathname !== '/' || u.search || u.hash || u.username || u.password) {
      const e = new Error(`“${line}” is not an origin. Write the scheme, host and port only, e.g. https://app.example.com`);
      e.line = line;
      throw e;
    }
    if (!out.includes(u.origin)) out.push(u.origin);
  }
  return out;
}

function modeSelect(id, value) {
  return h('select', { id, class: 'select' }, MODES.map((m) => h('option', { value: m.id, selected: m.id === value }, m.label)));
}

// The hint under a mode select describes the selected mode.
function modeField(select) {
  const desc = () => (MODES.find((m) => m.id === select.value) || { desc: '' }).desc;
  const node = field('Mode', select, { hint: desc() });
  const hint = node.querySelector('.field-hint');
  hint.classList.add('field-hint-mode');
  select.addEventListener('change', () => { hint.textContent = desc(); });
  return node;
}

function openCreateApp(ctx) {
  const name = h('input', { type: 'text', id: 'new-app-name', maxlength: '200', autocomplete: 'off', placeholder: 'e.g. Billing dashboard' });
  const mode = modeSelect('new-app-mode', 'sso');
  const origins = h('textarea', { id: 'new-app-origins', rows: '4', spellcheck: 'false', placeholder: 'https://portal.example.com' });
  formDialog({
    title: 'Create application',
    id: 'create-app-dialog',
    submitLabel: 'Create',
    fields: [
      { control: name, node: field('Name', name), pattern: /\bname\b/i },
      { control: mode, node: modeField(mode), pattern: /mode/i },
      { control: origins, node: field('Allowed origins', origins, { hint: 'One per line: the origins of the pages that may embed this app.' }), pattern: /origin/i },
    ],
    validate() {
      const p = [];
      if (!name.value.trim()) p.push([name, 'Give the application a name.']);
      try { parseOrigins(origins.value); } catch (e) { p.push([origins, e.message]); }
      return p;
    },
    async onSubmit(ctl) {
      const a = await api.post('/applications', { name: name.value.trim(), mode: mode.value, allowed_origins: parseOrigins(origins.value) });
      ctl.close();
      toast(`Created “${a.name || name.value.trim()}”`);
      if (ctx.isCurrent()) ctx.app.navigate(`#/settings/apps/${encodeURIComponent(a.id)}`);
    },
  });
}

export async function renderApps(ctx) {
  const { app, content } = ctx;
  const apps = (await api.get('/applications')) || [];
  if (!ctx.isCurrent()) return;
  const createBtn = app.canEdit
    ? h('button', { type: 'button', class: 'btn btn-primary', id: 'create-app', onclick: () => openCreateApp(ctx) }, '+ Create application')
    : null;
  const sorted = [...apps].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const columns = [
    { label: 'Name', cell: (a) => h('a', { href: `#/settings/apps/${encodeURIComponent(a.id)}`, class: 'cell-link', dataset: { appLink: a.id } }, a.name) },
    { label: 'Mode', cell: (a) => badge(modeLabel(a.mode), a.mode === 'public' ? 'warn' : 'neutral') },
    { label: 'Allowed origins', cell: (a) => originsSummary(a.allowed_origins) },
    { label: 'Latest version', cell: (a) => (a.latest_version ? `v${a.latest_version.version ?? a.latest_version}` : h('span', { class: 'muted' }, 'Not deployed')) },
    { label: 'Created', cell: (a) => time(a.created_at) },
  ];
  clear(content,
    pageHeader('Applications', 'Apps you deploy to Tessera and embed in your own pages.', createBtn ? [createBtn] : []),
    readonlyNote(app),
    sorted.length === 0
      ? emptyState(app.canEdit ? 'No applications yet. Create one, deploy its files, then paste the embed snippet into your page.' : 'No applications yet.')
      : table(columns, sorted, { caption: 'Applications', rowAttrs: (a) => ({ dataset: { appId: a.id } }) }));
}

function originsSummary(list) {
  const o = list || [];
  if (o.length === 0) return h('span', { class: 'muted' }, 'None');
  return h('span', { title: o.join('\n') }, o[0], o.length > 1 ? h('span', { class: 'muted' }, ` +${o.length - 1}`) : null);
}

// ---------------------------------------------------------------------------------------------
// Application page

export async function renderApp(ctx) {
  const { app, content, params } = ctx;
  const appId = params[0];
  const [a, who] = await Promise.all([api.get(`/applications/${api.seg(appId)}`), memberDirectory()]);
  if (!ctx.isCurrent()) return;
  ctx.setTitle(a.name);
  const state = { a, who };

  const title = h('span', { id: 'app-title' }, a.name);
  const modeBadge = badge(modeLabel(a.mode), 'neutral');
  const idEl = h('code', { id: 'app-id', class: 'mono id-text selectable' }, a.id);
  const header = h('header', { class: 'page-header' },
    h('div', { class: 'page-heading' },
      h('a', { href: '#/settings/apps', class: 'back-link', id: 'back-to-apps' }, h('span', { 'aria-hidden': 'true' }, '← '), 'Back'),
      h('h1', { tabindex: '-1', class: 'page-title' }, title, ' ', modeBadge),
      h('p', { class: 'id-line' }, h('span', { class: 'muted' }, 'App ID '), idEl,
        copyButton(() => a.id, { label: 'Copy', ariaLabel: 'Copy app ID', small: true, fallbackEl: idEl, what: 'App ID copied' }))));

  const settingsCard = h('section', { class: 'card', id: 'app-settings', 'aria-labelledby': 'app-settings-title' });
  const embedCard = h('section', { class: 'card', id: 'app-embed', 'aria-labelledby': 'app-embed-title' });
  const versionsCard = h('section', { class: 'card', id: 'app-versions', 'aria-labelledby': 'app-versions-title' });

  clear(content, header, readonlyNote(app), settingsCard, embedCard, versionsCard);

  const onSaved = (updated) => {
    Object.assign(state.a, updated);
    title.textContent = state.a.name;
    modeBadge.textContent = modeLabel(state.a.mode);
    ctx.setTitle(state.a.name);
    renderEmbed(ctx, state, embedCard);
  };
  renderSettings(ctx, state, settingsCard, onSaved);
  renderEmbed(ctx, state, embedCard);
  renderVersions(ctx, state, versionsCard);
}

function renderSettings(ctx, state, card, onSaved) {
  const { app } = ctx;
  const a = state.a;
  const ro = !app.canEdit;
  const name = h('input', { type: 'text', id: 'app-name', value: a.name, maxlength: '200', autocomplete: 'off', disabled: ro });
  const mode = modeSelect('app-mode', a.mode);
  mode.disabled = ro;
  const origins = h('textarea', { id: 'app-origins', rows: '4', spellcheck: 'false', disabled: ro, placeholder: 'https://portal.example.com' });
  origins.value = (a.allowed_origins || []).join('\n');
  const errBox = formError();
  const saved = h('span', { class: 'inline-status', role: 'status' });
  const save = ro ? null : h('button', { type: 'submit', class: 'btn btn-primary', id: 'app-save' }, 'Save changes');
  const form = h('form', { class: 'form', novalidate: true },
    h('div', { class: 'grid-2' },
      field('Name', name),
      modeField(mode)),
    field('Allowed origins', origins, { hint: 'One per line. Only pages on these origins may embed the app; browsers refuse to frame it anywhere else.' }),
    errBox,
    save ? h('div', { class: 'form-actions' }, save, saved) : null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (ro) return;
    for (const c of [name, mode, origins]) setFieldError(c, '');
    showFormError(errBox, '');
    saved.textContent = '';
    if (!name.value.trim()) { setFieldError(name, 'Give the application a name.'); name.focus(); return; }
    let list;
    try { list = parseOrigins(origins.value); } catch (err) { setFieldError(origins, err.message); origins.focus(); return; }
    const body = {};
    if (name.value.trim() !== a.name) body.name = name.value.trim();
    if (mode.value !== a.mode) body.mode = mode.value;
    if (JSON.stringify(list) !== JSON.stringify(a.allowed_origins || [])) body.allowed_origins = list;
    if (Object.keys(body).length === 0) { saved.textContent = 'No changes to save'; return; }
    save.disabled = true;
    save.textContent = 'Saving…';
    try {
      const updated = await api.patch(`/applications/${api.seg(a.id)}`, body);
      onSaved(updated && typeof updated === 'object' ? updated : body);
      origins.value = (state.a.allowed_origins || []).join('\n');
      saved.textContent = 'Saved';
      toast('Application saved');
    } catch (err) {
      if (err.status === 401) return;
      const d = err.description || '';
      const target = /origin/i.test(d) ? origins : /mode/i.test(d) ? mode : /\bname\b/i.test(d) ? name : null;
      if (target) { setFieldError(target, api.errorMessage(err)); target.focus(); } else showFormError(errBox, api.errorMessage(err));
    } finally {
      save.disabled = false;
      save.textContent = 'Save changes';
    }
  });
  clear(card, h('h2', { class: 'card-title', id: 'app-settings-title' }, 'Settings'), form);
}

async function renderEmbed(ctx, state, card) {
  const a = state.a;
  const head = [
    h('h2', { class: 'card-title', id: 'app-embed-title' }, 'Embed'),
    h('p', { class: 'card-desc' }, 'Paste this into the page that embeds the app. Its origin must be in Allowed origins above.'),
  ];
  clear(card, head, loading('Loading the embed snippet…'));
  let snip;
  try {
    snip = await api.get(`/applications/${api.seg(a.id)}/embed-snippet`);
  } catch (err) {
    if (!ctx.isCurrent() || err.status === 401) return;
    clear(card, head, errorState(err, () => renderEmbed(ctx, state, card)));
    return;
  }
  if (!ctx.isCurrent()) return;
  const hints = [];
  if (!(a.allowed_origins || []).length) {
    hints.push(h('p', { class: 'note note-warn', id: 'embed-origin-warning' }, icon('warn'),
      h('span', {}, 'No allowed origins yet: browsers will refuse to show this app in any page. Add your page’s origin above.')));
  }
  if (a.mode === 'sso') {
    hints.push(h('p', { class: 'note note-info' },
      h('span', {}, 'SSO: your backend requests session tokens with an ', h('a', { href: '#/settings/tokens' }, 'Embed access token'),
        ', and users need View access through a ', h('a', { href: '#/settings/groups' }, 'group'), ' whose ID it passes in groupIds.')));
  }
  const urlEl = h('code', { class: 'mono selectable', id: 'embed-url' }, snip.url || '');
  const codePanel = (key, text) => (panel) => {
    const code = h('code', { id: `snippet-${key}`, class: 'mono' }, text || '');
    const lang = key === 'react' ? 'React (JSX)' : 'HTML + JavaScript';
    clear(panel, h('div', { class: 'code-block' },
      h('div', { class: 'code-toolbar' }, h('span', {}, lang),
        copyButton(() => code.textContent, { fallbackEl: code, what: 'Snippet copied' })),
      h('pre', { class: 'code', tabindex: '0', 'aria-label': `${key === 'react' ? 'React' : 'JavaScript'} snippet` }, code)));
  };
  const t = tabs([
    { id: 'javascript', label: 'JavaScript', render: codePanel('javascript', snip.javascript) },
    { id: 'react', label: 'React', render: codePanel('react', snip.react) },
  ], { label: 'Embed snippet', idPrefix: 'snippet' });
  clear(card, head, hints,
    h('p', { class: 'id-line' }, h('span', { class: 'muted' }, 'Embed URL '), urlEl,
      copyButton(() => urlEl.textContent, { label: 'Copy', ariaLabel: 'Copy embed URL', small: true, fallbackEl: urlEl, what: 'Embed URL copied' })),
    t.el);
}

// --- Versions and deploy ----------------------------------------------------------------------

function renderVersions(ctx, state, card) {
  const { app } = ctx;
  const versions = [...(state.a.versions || [])].sort((x, y) => (Number(y.version) || 0) - (Number(x.version) || 0));
  const latest = versions.length ? versions[0].version : null;
  const columns = [
    { label: 'Version', cell: (v) => h('span', { class: 'cell-strong' }, `v${v.version}`, v.version === latest ? [' ', badge('Latest', 'success')] : null) },
    { label: 'Files', class: 'num', cell: (v) => String(v.files ?? '—') },
    { label: 'Size', class: 'num', cell: (v) => fmtBytes(v.bytes) },
    { label: 'Deployed by', cell: (v) => state.who(v.created_by) },
    { label: 'Deployed', cell: (v) => time(v.created_at, 'datetime') },
  ];
  clear(card,
    h('h2', { class: 'card-title', id: 'app-versions-title' }, 'Versions'),
    app.canEdit ? deployBox(ctx, state, card) : null,
    versions.length === 0
      ? emptyState(app.canEdit ? 'Nothing deployed yet. Choose the folder of your built app (it needs an index.html) and deploy it.' : 'Nothing deployed yet.')
      : table(columns, versions, { caption: 'Versions', rowAttrs: (v) => ({ dataset: { versionId: v.id, version: v.version } }) }));
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => {
      const s = String(r.result || '');
      const i = s.indexOf(',');
      resolve(i < 0 ? '' : s.slice(i + 1));
    };
    r.onerror = () => reject(r.error || new Error(`Could not read ${file.name}`));
    r.readAsDataURL(file);
  });
}

// [{file, path}] from an <input type=file>: folder picks drop their top folder ("dist/index.html"
// → "index.html"); hidden files (.DS_Store, .git/…) are skipped.
function collectFiles(fileList) {
  const files = [...fileList];
  const rel = files.map((f) => (f.webkitRelativePath || f.name).replace(/\\/g, '/'));
  const first = rel.length && rel.every((p) => p.includes('/')) ? rel[0].split('/')[0] : null;
  const strip = first !== null && rel.every((p) => p.split('/')[0] === first);
  const out = [];
  let skipped = 0;
  files.forEach((f, i) => {
    const path = strip ? rel[i].split('/').slice(1).join('/') : rel[i];
    if (!path || path.split('/').some((seg) => seg.startsWith('.'))) { skipped += 1; return; }
    out.push({ file: f, path });
  });
  out.sort((x, y) => x.path.localeCompare(y.path));
  return { files: out, skipped };
}

function deployBox(ctx, state, card) {
  const folder = h('input', { type: 'file', id: 'deploy-folder', class: 'file-input', multiple: true, webkitdirectory: true });
  const plain = h('input', { type: 'file', id: 'deploy-files', class: 'file-input', multiple: true });
  const summary = h('div', { class: 'deploy-summary', id: 'deploy-summary', 'aria-live': 'polite' },
    h('p', { class: 'muted' }, 'No files chosen.'));
  const err = h('p', { class: 'field-error', id: 'deploy-error', role: 'alert', hidden: true });
  const progress = h('span', { class: 'inline-status', id: 'deploy-progress', role: 'status' });
  const deploy = h('button', { type: 'button', class: 'btn btn-primary', id: 'deploy-button', disabled: true }, icon('upload'), 'Deploy');
  let chosen = null;

  const showErr = (m) => { err.textContent = m || ''; err.hidden = !m; };
  function choose(input) {
    showErr('');
    progress.textContent = '';
    const other = input === folder ? plain : folder;
    other.value = '';
    const { files, skipped } = collectFiles(input.files || []);
    chosen = files;
    const total = files.reduce((n, f) => n + f.file.size, 0);
    const hasIndex = files.some((f) => f.path === 'index.html');
    const shown = files.slice(0, 8);
    clear(summary,
      h('p', {}, h('strong', {}, `${files.length} file${files.length === 1 ? '' : 's'}`), ` · ${fmtBytes(total)}`,
        skipped ? h('span', { class: 'muted' }, ` · ${skipped} hidden file${skipped === 1 ? '' : 's'} skipped`) : null),
      files.length ? h('ul', { class: 'file-list' },
        shown.map((f) => h('li', { class: 'mono small' }, f.path)),
        files.length > shown.length ? h('li', { class: 'muted small' }, `… and ${files.length - shown.length} more`) : null) : null);
    let problem = '';
    if (files.length === 0) problem = 'No files to deploy.';
    else if (!hasIndex) problem = 'The bundle needs an index.html at its top level. Choose the folder that contains index.html (for example your build output), or include index.html among the files.';
    else if (total > MAX_BUNDLE) problem = `The bundle is ${fmtBytes(total)}; the limit is 16 MB.`;
    showErr(problem);
    deploy.disabled = Boolean(problem);
  }
  folder.addEventListener('change', () => choose(folder));
  plain.addEventListener('change', () => choose(plain));

  deploy.addEventListener('click', async () => {
    if (!chosen || !chosen.length) return;
    showErr('');
    deploy.disabled = true;
    folder.disabled = true;
    plain.disabled = true;
    try {
      const files = [];
      for (let i = 0; i < chosen.length; i++) {
        progress.textContent = `Reading ${i + 1} of ${chosen.length} files…`;
        const { file, path } = chosen[i];
        const entry = { path, content_base64: await readBase64(file) };
        if (file.type) entry.content_type = file.type;
        files.push(entry);
      }
      progress.textContent = 'Uploading…';
      const v = await api.post(`/applications/${api.seg(state.a.id)}/versions`, { files });
      toast(`Deployed v${v.version}`);
      const fresh = await api.get(`/applications/${api.seg(state.a.id)}`);
      if (!ctx.isCurrent()) return;
      state.a.versions = fresh.versions || [];
      renderVersions(ctx, state, card);
      const live = card.querySelector('#deploy-progress');
      if (live) live.textContent = `Deployed v${v.version}: ${v.files} files, ${fmtBytes(v.bytes)}.`;
    } catch (e) {
      if (e.status === 401) return;
      progress.textContent = '';
      showErr(api.errorMessage(e));
      deploy.disabled = false;
    } finally {
      folder.disabled = false;
      plain.disabled = false;
    }
  });

  return h('div', { class: 'deploy' },
    h('h3', { class: 'subhead' }, 'Deploy a new version'),
    h('p', { class: 'card-desc' }, 'Choose the folder of your built app, or its files. The bundle needs an index.html; up to 16 MB.'),
    h('div', { class: 'deploy-pickers' },
      folder, h('label', { for: folder.id, class: 'btn file-label' }, 'Choose folder…'),
      plain, h('label', { for: plain.id, class: 'btn file-label' }, 'Choose files…'),
      deploy, progress),
    summary,
    err);
}

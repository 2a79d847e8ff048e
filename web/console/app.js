// Tessera admin console: sign-in, the shell (top bar with the avatar menu, settings sidebar) and
// hash routing. Pages live in their own modules and render into the content area.
//
//   #/                          home: the organization's applications and the embedding checklist
//   #/settings/tokens           Access Tokens
//   #/settings/groups           Groups              #/settings/groups/<id>[/members|/permissions]
//   #/settings/apps             Applications        #/settings/apps/<id>
//   #/settings/idps             Identity providers (token exchange)
//   #/settings/integrations     Integrations (host APIs apps call as the user)
//   #/settings/webhooks         Webhooks (session events sent to the host's endpoints)
//   #/settings/members          Members
//   #/settings/keys             Signing keys
//   #/settings/audit[?action=&actor=&since=]        Audit log

import * as api from './api.js';
import { h, clear, initials, menuButton, closeMenus, errorState, loading, toast } from './ui.js';
import { renderHome } from './home.js';
import { renderTokens } from './tokens.js';
import { renderGroups, renderGroup } from './groups.js';
import { renderApps, renderApp } from './apps.js';
import { renderIdps } from './idps.js';
import { renderIntegrations } from './integrations.js';
import { renderWebhooks } from './webhooks.js';
import { renderMembers } from './members.js';
import { renderKeys } from './keys.js';
import { renderAudit } from './audit.js';

const root = document.getElementById('app');

// The signed-in admin; null when signed out.
const app = {
  user: null,
  org: null,
  canEdit: false,
  navigate: (hash) => { if (location.hash === hash) route(); else location.hash = hash; },
  refresh: () => route(),
};

const SETTINGS_NAV = [
  { id: 'tokens', label: 'Access Tokens' },
  { id: 'groups', label: 'Groups' },
  { id: 'apps', label: 'Applications' },
  { id: 'idps', label: 'Identity providers' },
  { id: 'integrations', label: 'Integrations' },
  { id: 'webhooks', label: 'Webhooks' },
  { id: 'members', label: 'Members' },
  { id: 'keys', label: 'Signing keys' },
  { id: 'audit', label: 'Audit log' },
];

const ROUTES = [
  { re: /^\/?$/, title: 'Home', render: renderHome },
  { re: /^\/settings\/?$/, redirect: '#/settings/tokens' },
  { re: /^\/settings\/tokens\/?$/, nav: 'tokens', title: 'Access Tokens', render: renderTokens },
  { re: /^\/settings\/groups\/?$/, nav: 'groups', title: 'Groups', render: renderGroups },
  { re: /^\/settings\/groups\/([^/]+)(?:\/(members|permissions))?\/?$/, nav: 'groups', title: 'Group', render: renderGroup },
  { re: /^\/settings\/apps\/?$/, nav: 'apps', title: 'Applications', render: renderApps },
  { re: /^\/settings\/apps\/([^/]+)\/?$/, nav: 'apps', title: 'Application', render: renderApp },
  { re: /^\/settings\/idps\/?$/, nav: 'idps', title: 'Identity providers', render: renderIdps },
  { re: /^\/settings\/integrations\/?$/, nav: 'integrations', title: 'Integrations', render: renderIntegrations },
  { re: /^\/settings\/webhooks\/?$/, nav: 'webhooks', title: 'Webhooks', render: renderWebhooks },
  { re: /^\/settings\/members\/?$/, nav: 'members', title: 'Members', render: renderMembers },
  { re: /^\/settings\/keys\/?$/, nav: 'keys', title: 'Signing keys', render: renderKeys },
  { re: /^\/settings\/audit\/?$/, nav: 'audit', title: 'Audit log', render: renderAudit },
];

// ---------------------------------------------------------------------------------------------
// Session

function setSignedIn(data) {
  api.setSession(data);
  app.user = data.user;
  app.org = data.org || { id: data.user.org_id, name: '' };
  app.canEdit = data.user.role === 'owner' || data.user.role === 'admin';
}

function setSignedOut() {
  api.setSession(null);
  app.user = null;
  app.org = null;
  app.canEdit = false;
}

api.onUnauthorized(() => {
  if (!app.user) return;
  setSignedOut();
  closeAllDialogs();
  renderSignIn('Your session has ended. Sign in again to continue.');
});

function closeAllDialogs() {
  closeMenus();
  for (const d of document.querySelectorAll('dialog')) { d.close(); d.remove(); }
  root.removeAttribute('aria-hidden');
}

async function signOut() {
  try {
    await api.auth.logout();
  } catch (err) {
    if (err.status !== 401) { toast(`Could not sign out: ${api.errorMessage(err)}`, 'error'); return; }
  }
  setSignedOut();
  closeAllDialogs();
  renderSignIn('You have signed out.', 'info');
}

// ---------------------------------------------------------------------------------------------
// Sign-in page

let retryTimer = null;

function renderSignIn(notice, noticeKind = 'warn') {
  document.title = 'Sign in · Tessera console';
  root.removeAttribute('aria-busy');
  clearInterval(retryTimer);
  const email = h('input', { id: 'signin-email', name: 'email', type: 'email', autocomplete: 'username', required: true, autofocus: true, spellcheck: 'false' });
  const password = h('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('div', { id: 'signin-error', class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', id: 'signin-submit', class: 'btn btn-primary btn-block' }, 'Sign in');
  const showErr = (msg) => { err.textContent = msg; err.hidden = !msg; };

  const form = h('form', { class: 'signin-form', novalidate: true, 'aria-describedby': 'signin-error' },
    h('div', { class: 'field' }, h('label', { for: 'signin-email', class: 'field-label' }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: 'signin-password', class: 'field-label' }, 'Password'), password),
    err,
    submit);

  function startCountdown(seconds) {
    let left = seconds;
    const tick = () => {
      if (left <= 0) {
        clearInterval(retryTimer);
        submit.disabled = false;
        showErr('You can try again now.');
        return;
      }
      showErr(`Too many attempts, try again in ${left} s.`);
      left -= 1;
    };
    submit.disabled = true;
    clearInterval(retryTimer);
    tick();
    retryTimer = setInterval(tick, 1000);
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    showErr('');
    if (!email.value.trim()) { showErr('Enter your email address.'); email.focus(); return; }
    if (!password.value) { showErr('Enter your password.'); password.focus(); return; }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    form.setAttribute('aria-busy', 'true');
    let countdown = null;
    try {
      const data = await api.auth.login(email.value.trim(), password.value);
      setSignedIn(data);
      renderShell();
      route();
      return;
    } catch (ex) {
      password.value = '';
      if (ex.status === 401) showErr('Wrong email or password.');
      else if (ex.status === 429) countdown = ex.retryAfter ?? 60;
      else if (ex.status === 403) showErr('Your role has no console access. Ask an owner or admin of your organization if you need it.');
      else showErr(api.errorMessage(ex));
      (ex.status === 401 || ex.status === 403 ? password : email).focus();
    } finally {
      form.removeAttribute('aria-busy');
      submit.textContent = 'Sign in';
      submit.disabled = false;
    }
    if (countdown !== null) startCountdown(countdown);
  });

  clear(root,
    h('main', { class: 'signin-page' },
      h('section', { class: 'signin-card', 'aria-labelledby': 'signin-title' },
        h('div', { class: 'brand brand-lg' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'Tessera'),
        h('h1', { id: 'signin-title', class: 'signin-title' }, 'Sign in to the admin console'),
        notice ? h('p', { class: `note note-${noticeKind}`, id: 'signin-notice' }, notice) : null,
        form),
      h('p', { class: 'signin-foot muted' }, 'Owners, admins and developers of an organization can sign in here.')));
  email.focus();
}

// ---------------------------------------------------------------------------------------------
// Shell

let shell = null;

function renderShell() {
  root.removeAttribute('aria-busy');
  const u = app.user;
  const avatar = menuButton({
    id: 'avatar-button',
    className: 'avatar-button',
    ariaLabel: 'Account menu',
    align: 'start',
    content: [h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(u.name, u.email))],
    header: () => h('div', { class: 'menu-header' },
      h('div', { class: 'menu-user-name' }, u.name || u.email),
      u.name ? h('div', { class: 'menu-user-email' }, u.email) : null,
      h('div', { class: 'menu-user-role' }, `${app.org.name || 'Organization'} · ${u.role}`)),
    items: [
      { label: 'Organization Settings', id: 'menu-org-settings', onSelect: () => app.navigate('#/settings/tokens') },
      'separator',
      { label: 'Sign out', id: 'menu-sign-out', onSelect: signOut },
    ],
  });
  const topbar = h('header', { class: 'topbar' },
    avatar,
    h('a', { href: '#/', class: 'brand', 'aria-label': 'Tessera console home' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'Tessera'),
    h('span', { class: 'topbar-sep', 'aria-hidden': 'true' }, '/'),
    h('span', { class: 'topbar-org', id: 'org-name' }, app.org.name || 'Organization'),
    h('span', { class: 'topbar-spacer' }),
    !app.canEdit ? h('span', { class: 'badge badge-neutral', title: 'Your role can view but not change settings' }, 'Read-only') : null);
  const main = h('div', { class: 'main', id: 'main' });
  clear(root, h('a', { href: '#main-content', class: 'skip-link' }, 'Skip to content'), topbar, main);
  shell = { main, sidebar: null, content: null };
}

function settingsFrame(activeNav) {
  if (!shell.sidebar) {
    const links = SETTINGS_NAV.map((n) => h('li', {}, h('a', { href: `#/settings/${n.id}`, class: 'nav-link', id: `nav-${n.id}`, dataset: { nav: n.id } }, n.label)));
    shell.sidebar = h('nav', { class: 'sidebar', 'aria-label': 'Organization Settings' },
      h('p', { class: 'sidebar-title' }, 'Organization Settings'),
      h('ul', { class: 'nav-list' }, links));
    shell.content = h('main', { class: 'content', id: 'main-content', tabindex: '-1' });
    clear(shell.main, h('div', { class: 'settings' }, shell.sidebar, shell.content));
  }
  for (const a of shell.sidebar.querySelectorAll('a')) {
    if (a.dataset.nav === activeNav) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  return shell.content;
}

function plainFrame() {
  shell.sidebar = null;
  shell.content = h('main', { class: 'content content-home', id: 'main-content', tabindex: '-1' });
  clear(shell.main, shell.content);
  return shell.content;
}

// ---------------------------------------------------------------------------------------------
// Router

let renderSeq = 0;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  return { path, query };
}

async function route() {
  if (!app.user) return;
  closeMenus();
  const { path, query } = parseHash();
  const r = ROUTES.find((x) => x.re.test(path));
  if (!r) {
    const content = plainFrame();
    clear(content, h('div', { class: 'state state-empty' },
      h('h1', { tabindex: '-1' }, 'Page not found'),
      h('p', {}, 'There is nothing at this address. '), h('a', { href: '#/' }, 'Go to the home page')));
    return;
  }
  if (r.redirect) { location.replace(r.redirect); return; }
  const params = path.match(r.re).slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p)));
  const seq = ++renderSeq;
  const hadFocusInContent = shell.content && shell.content.contains(document.activeElement);
  const content = r.nav ? settingsFrame(r.nav) : plainFrame();
  clear(content, loading());
  document.title = `${r.title} · Tessera console`;
  const ctx = {
    app,
    params,
    query,
    content,
    isCurrent: () => seq === renderSeq && app.user !== null,
    setTitle: (t) => { if (seq === renderSeq) document.title = `${t} · Tessera console`; },
  };
  try {
    await r.render(ctx);
  } catch (err) {
    if (!ctx.isCurrent()) return;
    if (err && err.status === 401) return;   // sign-in shown by the handler
    if (err && err.status === 404 && r.nav) {
      const back = SETTINGS_NAV.find((n) => n.id === r.nav);
      clear(content, h('div', { class: 'state state-empty not-found', 'data-state': 'not-found' },
        h('h1', { tabindex: '-1' }, 'Not found'),
        h('p', {}, `${api.errorMessage(err)} It may have been deleted, or the address is wrong.`),
        h('a', { href: `#/settings/${back.id}`, class: 'btn' }, `Back to ${back.label}`)));
    } else {
      clear(content, errorState(err, () => route()));
    }
  }
  if (!ctx.isCurrent()) return;
  // Move focus to the new page's heading when the old focus went away with the old page.
  const active = document.activeElement;
  if (hadFocusInContent || !active || active === document.body || !active.isConnected) {
    const h1 = content.querySelector('h1');
    if (h1 && !document.querySelector('dialog[open]')) h1.focus({ preventScroll: true });
  }
}

window.addEventListener('hashchange', route);

// ---------------------------------------------------------------------------------------------
// Boot: the cookie may still hold a session; its CSRF token comes back with it.

(async function boot() {
  try {
    const data = await api.auth.session();
    setSignedIn(data);
    renderShell();
    await route();
  } catch (err) {
    if (err.status === 401 || err.status === 403) renderSignIn(err.status === 403 ? 'Your role has no console access.' : null);
    else {
      root.removeAttribute('aria-busy');
      clear(root, h('main', { class: 'signin-page' },
        h('section', { class: 'signin-card' },
          h('div', { class: 'brand brand-lg' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'Tessera'),
          errorState(err, () => location.reload()))));
    }
  }
})();

// Home: the organization's applications and a checklist for embedding an app with SSO.

import * as api from './api.js';
import { h, clear, badge, time, emptyState } from './ui.js';
import { MODES } from './apps.js';

export async function renderHome(ctx) {
  const { app, content } = ctx;
  const settle = (p) => p.then((v) => v || [], (err) => { if (err.status === 401) throw err; return null; });
  const [apps, tokens, groups] = await Promise.all([
    settle(api.get('/applications')), settle(api.get('/access-tokens')), settle(api.get('/groups')),
  ]);
  if (!ctx.isCurrent()) return;

  const liveTokens = (tokens || []).filter((t) => t.type === 'embed' && !t.revoked_at && !(t.expires_at && Date.parse(t.expires_at) <= Date.now()));
  const viewGroups = (groups || []).filter((g) => (g.permissions || []).some((p) => p.permission === 'apps:view'));
  const withOrigins = (apps || []).filter((a) => (a.allowed_origins || []).length);
  const step = (done, title, text, href, linkText) => h('li', { class: `step${done ? ' step-done' : ''}` },
    h('span', { class: 'step-mark', 'aria-hidden': 'true' }, done ? '✓' : ''),
    h('div', {},
      h('p', { class: 'step-title' }, title, done ? h('span', { class: 'visually-hidden' }, ' (done)') : null),
      h('p', { class: 'step-text' }, text, ' ', h('a', { href }, linkText))));

  const modeLabel = (m) => (MODES.find((x) => x.id === m) || { label: m }).label;
  const cards = (apps || []).map((a) => h('a', { class: 'app-card', href: `#/settings/apps/${encodeURIComponent(a.id)}`, dataset: { appId: a.id } },
    h('span', { class: 'app-card-name' }, a.name),
    h('span', { class: 'app-card-meta' }, badge(modeLabel(a.mode), 'neutral'), ' ',
      a.latest_version ? `v${a.latest_version.version ?? a.latest_version}` : 'Not deployed'),
    h('span', { class: 'app-card-date muted small' }, 'Created ', time(a.created_at))));

  clear(content,
    h('header', { class: 'page-header' },
      h('div', { class: 'page-heading' },
        h('h1', { tabindex: '-1', class: 'page-title' }, app.org.name || 'Home'),
        h('p', { class: 'page-desc' }, `Signed in as ${app.user.email} (${app.user.role}). Open the avatar menu for Organization Settings.`))),
    h('section', { class: 'card', 'aria-labelledby': 'home-apps' },
      h('h2', { class: 'card-title', id: 'home-apps' }, 'Applications'),
      apps === null ? h('p', { class: 'muted' }, 'Could not load the applications.')
        : cards.length ? h('div', { class: 'app-grid' }, cards)
          : emptyState('No applications yet. ', h('a', { href: '#/settings/apps' }, 'Create one'))),
    h('section', { class: 'card', 'aria-labelledby': 'home-steps' },
      h('h2', { class: 'card-title', id: 'home-steps' }, 'Embed an app with SSO'),
      h('ol', { class: 'steps' },
        step(liveTokens.length > 0, 'Create an Embed access token',
          'Your backend uses it to request session tokens for signed-in users.', '#/settings/tokens', 'Access Tokens'),
        step(viewGroups.length > 0, 'Give a group View access to the app',
          'Then copy the group’s ID and pass it in groupIds.', '#/settings/groups', 'Groups'),
        step(withOrigins.length > 0, 'Allow your page’s origin',
          'Browsers frame the app only on the origins you list.', '#/settings/apps', 'Applications'),
        step(false, 'Paste the embed snippet', 'Each application’s page has it for JavaScript and React.', '#/settings/apps', 'Open an application'))));
}

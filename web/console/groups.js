// Groups: list with "+ Add group" and a "…" menu per group (Copy group ID, Rename, Delete);
// a group page with tabs Members (add by email, remove) and Permissions (View / Edit per app).

import * as api from './api.js';
import {
  h, clear, pageHeader, table, emptyState, readonlyNote, formDialog, confirmDialog, field, toast,
  menuButton, icon, tabs, copyText, selectText, setFieldError, newId,
} from './ui.js';

const PERMS = [
  { id: 'apps:view', label: 'View', desc: 'can open the app' },
  { id: 'apps:update', label: 'Edit', desc: 'can deploy and change the app' },
];

async function copyGroupId(group, feedbackEl) {
  const ok = await copyText(group.id);
  if (ok) {
    toast(`Copied group ID of “${group.name}”`);
    if (feedbackEl) {
      feedbackEl.textContent = 'Copied';
      feedbackEl.hidden = false;
      setTimeout(() => { feedbackEl.hidden = true; }, 2500);
    }
  } else {
    const idEl = document.getElementById('group-id');
    if (idEl) selectText(idEl);
    toast(`The clipboard is not available here. The group ID is ${group.id}`, 'warn');
  }
}

function groupMenu(ctx, group, { onPage, feedbackEl } = {}) {
  return menuButton({
    content: icon('dots'),
    ariaLabel: onPage ? 'Group actions' : `Actions for ${group.name}`,
    className: onPage ? 'btn btn-icon-text' : 'btn-icon',
    id: onPage ? 'group-menu' : undefined,
    dataset: { groupMenu: group.id },
    items: () => {
      const items = [{ label: 'Copy group ID', dataset: { action: 'copy-group-id' }, onSelect: () => copyGroupId(group, feedbackEl) }];
      if (ctx.app.canEdit) {
        items.push({ label: 'Rename', dataset: { action: 'rename-group' }, onSelect: () => renameGroup(ctx, group) });
        items.push('separator');
        items.push({ label: 'Delete', danger: true, dataset: { action: 'delete-group' }, onSelect: () => deleteGroup(ctx, group, onPage) });
      }
      return items;
    },
  });
}

function renameGroup(ctx, group) {
  const name = h('input', { type: 'text', id: 'group-rename', value: group.name, maxlength: '200', autocomplete: 'off' });
  formDialog({
    title: 'Rename group',
    id: 'rename-group-dialog',
    submitLabel: 'Save',
    fields: [{ control: name, node: field('Name', name), pattern: /name/i }],
    validate: () => (name.value.trim() ? [] : [[name, 'Give the group a name.']]),
    async onSubmit(ctl) {
      await api.patch(`/groups/${api.seg(group.id)}`, { name: name.value.trim() });
      ctl.close();
      toast('Group renamed');
      if (ctx.isCurrent()) ctx.app.refresh();
    },
  });
  name.select();
}

function deleteGroup(ctx, group, onPage) {
  confirmDialog({
    id: 'delete-group-dialog',
    title: `Delete “${group.name}”?`,
    message: [
      'Its members lose the access it grants.',
      'Token requests that still pass its ID in groupIds will be refused until you remove it there.',
    ],
    confirmLabel: 'Delete group',
    async action() {
      await api.del(`/groups/${api.seg(group.id)}`);
      toast(`Deleted “${group.name}”`);
      if (!ctx.isCurrent()) return;
      if (onPage) ctx.app.navigate('#/settings/groups'); else ctx.app.refresh();
    },
  });
}

function openAddGroup(ctx) {
  const name = h('input', { type: 'text', id: 'group-name', maxlength: '200', autocomplete: 'off', placeholder: 'e.g. Customer portal users' });
  formDialog({
    title: 'Add group',
    id: 'add-group-dialog',
    submitLabel: 'Create',
    fields: [{ control: name, node: field('Name', name, { hint: 'Groups grant their members, and embed users whose token names them, access to apps.' }), pattern: /name/i }],
    validate: () => (name.value.trim() ? [] : [[name, 'Give the group a name.']]),
    async onSubmit(ctl) {
      const g = await api.post('/groups', { name: name.value.trim() });
      ctl.close();
      toast(`Created “${g.name || name.value.trim()}”`);
      if (ctx.isCurrent()) ctx.app.navigate(`#/settings/groups/${encodeURIComponent(g.id)}`);
    },
  });
}

export async function renderGroups(ctx) {
  const { app, content } = ctx;
  const groups = (await api.get('/groups')) || [];
  if (!ctx.isCurrent()) return;
  const addBtn = app.canEdit
    ? h('button', { type: 'button', class: 'btn btn-primary', id: 'add-group', onclick: () => openAddGroup(ctx) }, '+ Add group')
    : null;
  const sorted = [...groups].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const appCount = (g) => new Set((g.permissions || []).filter((p) => p.permission === 'apps:view').map((p) => p.app_id)).size;
  const columns = [
    { label: 'Name', cell: (g) => h('a', { href: `#/settings/groups/${encodeURIComponent(g.id)}`, class: 'cell-link', dataset: { groupLink: g.id } }, g.name) },
    { label: 'Members', class: 'num', cell: (g) => String(g.member_count ?? 0) },
    { label: 'Apps with View access', class: 'num', cell: (g) => String(appCount(g)) },
    { label: 'Group ID', cell: (g) => h('code', { class: 'mono small id-text' }, g.id) },
    { label: '', sr: 'Actions', class: 'cell-actions', cell: (g) => groupMenu(ctx, g) },
  ];
  clear(content,
    pageHeader('Groups',
      'Groups grant access to applications. Embed users join groups for the length of their session when your backend passes the group IDs in groupIds.',
      addBtn ? [addBtn] : []),
    readonlyNote(app),
    sorted.length === 0
      ? emptyState('No groups yet. Add one, give it View access to your apps, then pass its ID in groupIds when your backend requests session tokens.')
      : table(columns, sorted, { caption: 'Groups', rowAttrs: (g) => ({ dataset: { groupId: g.id } }) }));
}

export async function renderGroup(ctx) {
  const { app, content, params } = ctx;
  const [groupId, tab] = params;
  const [group, apps] = await Promise.all([
    api.get(`/groups/${api.seg(groupId)}`),
    api.get('/applications'),
  ]);
  if (!ctx.isCurrent()) return;
  ctx.setTitle(group.name);
  const copied = h('span', { class: 'copied-flag', role: 'status', hidden: true });
  const idEl = h('code', { id: 'group-id', class: 'mono id-text selectable' }, group.id);
  const nameEl = h('span', { id: 'group-name-title' }, group.name);
  const header = h('header', { class: 'page-header' },
    h('div', { class: 'page-heading' },
      h('a', { href: '#/settings/groups', class: 'back-link', id: 'back-to-groups' }, h('span', { 'aria-hidden': 'true' }, '← '), 'Back'),
      h('h1', { tabindex: '-1', class: 'page-title' }, nameEl),
      h('p', { class: 'id-line' }, h('span', { class: 'muted' }, 'Group ID '), idEl, copied)),
    h('div', { class: 'page-actions' }, groupMenu(ctx, group, { onPage: true, feedbackEl: copied })));

  const state = { group, apps: apps || [] };
  const t = tabs([
    { id: 'members', label: 'Members', render: (panel) => renderMembersTab(ctx, state, panel) },
    { id: 'permissions', label: 'Permissions', render: (panel) => renderPermissionsTab(ctx, state, panel) },
  ], {
    label: 'Group',
    idPrefix: 'group',
    selected: tab || 'members',
    onChange: (id) => {
      const want = `#/settings/groups/${encodeURIComponent(group.id)}${id === 'members' ? '' : `/${id}`}`;
      if (ctx.isCurrent() && location.hash !== want) history.replaceState(null, '', want);
    },
  });
  clear(content, header, readonlyNote(app), t.el);
}

// --- Members tab ------------------------------------------------------------------------------

function renderMembersTab(ctx, state, panel) {
  const { app } = ctx;
  const draw = () => {
    const g = state.group;
    const members = [...(g.members || [])].sort((a, b) => String(a.email).localeCompare(String(b.email)));
    let form = null;
    if (app.canEdit) {
      const listId = newId('org-emails');
      const email = h('input', { type: 'email', id: 'group-member-email', autocomplete: 'off', spellcheck: 'false', list: listId, placeholder: 'name@company.com' });
      const datalist = h('datalist', { id: listId });
      api.get('/members').then((all) => {
        const inGroup = new Set(members.map((m) => m.id));
        for (const m of all || []) if (!inGroup.has(m.id)) datalist.append(h('option', { value: m.email }, m.name || m.email));
      }).catch(() => {});
      const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'group-add-member' }, 'Add member');
      form = h('form', { class: 'inline-form', novalidate: true },
        h('div', { class: 'field field-grow' },
          h('label', { for: email.id, class: 'field-label' }, 'Add a member by email'),
          h('div', { class: 'inline-row' }, email, submit),
          h('p', { class: 'field-error', id: `${email.id}-error`, hidden: true })),
        datalist);
      email.setAttribute('aria-describedby', `${email.id}-error`);
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        setFieldError(email, '');
        const v = email.value.trim();
        if (!v) { setFieldError(email, 'Enter the email of a member of this organization.'); email.focus(); return; }
        submit.disabled = true;
        try {
          await api.post(`/groups/${api.seg(g.id)}/members`, { email: v });
          state.group = await api.get(`/groups/${api.seg(g.id)}`);
          toast(`Added ${v}`);
          draw();
          document.getElementById('group-member-email')?.focus();
        } catch (err) {
          if (err.status === 401) return;
          setFieldError(email, err.status === 404 && !err.description ? 'No member of this organization has this email.' : api.errorMessage(err));
          email.focus();
        } finally {
          submit.disabled = false;
        }
      });
    }
    const columns = [
      { label: 'Name', cell: (m) => h('span', { class: 'cell-strong' }, m.name || '—') },
      { label: 'Email', cell: (m) => m.email },
      { label: 'Role', cell: (m) => m.role || '—' },
    ];
    if (app.canEdit) {
      columns.push({
        label: '', sr: 'Actions', class: 'cell-actions',
        cell: (m) => h('button', {
          type: 'button', class: 'btn btn-sm btn-danger-ghost', 'aria-label': `Remove ${m.email} from the group`,
          dataset: { action: 'remove-group-member', memberId: m.id },
          onclick: () => confirmDialog({
            id: 'remove-group-member-dialog',
            title: `Remove ${m.email} from “${g.name}”?`,
            message: 'They lose the access this group grants.',
            confirmLabel: 'Remove',
            async action() {
              await api.del(`/groups/${api.seg(g.id)}/members/${api.seg(m.id)}`);
              state.group = await api.get(`/groups/${api.seg(g.id)}`);
              toast(`Removed ${m.email}`);
              draw();
            },
          }),
        }, 'Remove'),
      });
    }
    clear(panel,
      form,
      members.length === 0
        ? emptyState('No members yet. Add organization members by email. Embed users are not listed here: they belong to the group only for the sessions whose token request names it in groupIds.')
        : [table(columns, members, { caption: 'Group members', rowAttrs: (m) => ({ dataset: { memberId: m.id, email: m.email } }) }),
          h('p', { class: 'field-hint' }, 'Embed users are not listed: they belong to the group only for the sessions whose token request names it in groupIds.')]);
  };
  draw();
}

// --- Permissions tab --------------------------------------------------------------------------

function renderPermissionsTab(ctx, state, panel) {
  const { app } = ctx;
  const apps = [...state.apps].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  if (apps.length === 0) {
    clear(panel, emptyState('No applications yet. ', h('a', { href: '#/settings/apps' }, 'Create an application'), ' to grant this group access to it.'));
    return;
  }
  const has = (appId, perm) => (state.group.permissions || []).some((p) => p.app_id === appId && p.permission === perm);
  const toggles = [];
  const rows = apps.map((a) => {
    const err = h('p', { class: 'field-error', hidden: true, id: `perm-error-${a.id}` });
    const cells = PERMS.map((perm) => {
      const input = h('input', {
        type: 'checkbox', role: 'switch', class: 'switch',
        'aria-label': `${perm.label} ${a.name}`,
        'aria-describedby': err.id,
        checked: has(a.id, perm.id),
        disabled: !app.canEdit,
        dataset: { appId: a.id, permission: perm.id },
      });
      toggles.push({ input, appId: a.id, perm: perm.id });
      input.addEventListener('change', async () => {
        const granted = input.checked;
        err.hidden = true;
        input.disabled = true;
        input.setAttribute('aria-busy', 'true');
        try {
          state.group = await api.put(`/groups/${api.seg(state.group.id)}/permissions`, { app_id: a.id, permission: perm.id, granted });
          for (const t of toggles) t.input.checked = has(t.appId, t.perm);
          toast(`${perm.label} access to ${a.name} ${granted ? 'granted' : 'removed'}`);
        } catch (e) {
          input.checked = !granted;
          if (e.status === 401) return;
          err.textContent = api.errorMessage(e);
          err.hidden = false;
        } finally {
          input.disabled = !app.canEdit;
          input.removeAttribute('aria-busy');
        }
      });
      return h('td', { class: 'cell-switch' }, input);
    });
    return h('tr', { dataset: { appId: a.id } },
      h('td', {},
        h('a', { href: `#/settings/apps/${encodeURIComponent(a.id)}`, class: 'cell-link' }, a.name),
        h('div', { class: 'muted small' }, modeText(a.mode)),
        err),
      cells);
  });
  clear(panel,
    h('p', { class: 'panel-intro' }, 'Turn on ', h('strong', {}, 'View'), ' for the apps this group’s users may open. ',
      h('strong', {}, 'Edit'), ' also lets them deploy versions and change the app.'),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table table-perms' },
        h('caption', { class: 'visually-hidden' }, 'Application permissions'),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Application'),
          PERMS.map((p) => h('th', { scope: 'col', class: 'cell-switch', title: p.desc }, p.label)))),
        h('tbody', {}, rows))));
}

function modeText(mode) {
  return { public: 'Public', private: 'Private', sso: 'SSO' }[mode] || mode || '';
}


// Identity providers: the issuers whose tokens this organization trusts, so that a backend can pass
// one as subject_token to POST /api/v1/public/token (token exchange; docs/TOKEN-EXCHANGE.md).
// List, add, edit (PATCH of the changed fields only), delete.

import * as api from './api.js';
import {
  h, clear, pageHeader, table, time, badge, emptyState, readonlyNote, formDialog, confirmDialog, field,
  toast, setFieldError,
} from './ui.js';
import { breakable } from './integrations.js';

export const ALGORITHMS = ['RS256', 'PS256', 'ES256'];
const ISSUER_EXAMPLE = 'https://YOUR_DOMAIN.okta.com/oauth2/default';

export async function renderIdps(ctx) {
  const { app, content } = ctx;
  const idps = (await api.get('/idps')) || [];
  if (!ctx.isCurrent()) return;
  const addBtn = () => h('button', { type: 'button', class: 'btn btn-primary', id: 'add-idp', onclick: () => openIdpDialog(ctx) }, '+ Add identity provider');
  const sorted = [...idps].sort((a, b) => String(a.name).localeCompare(String(b.name)));

  const columns = [
    { label: 'Name', cell: (p) => h('span', { class: 'cell-strong' }, breakable(p.name || p.issuer)) },
    { label: 'Issuer', cell: (p) => h('code', { class: 'mono small' }, breakable(p.issuer)) },
    { label: 'Keys', cell: keysCell },
    { label: 'Audience', cell: (p) => (p.audience ? h('code', { class: 'mono small' }, breakable(p.audience)) : h('span', { class: 'muted', title: 'The aud claim is not checked' }, 'any')) },
    { label: 'Algorithms', cell: (p) => h('span', { class: 'badge-row' }, (p.algorithms || []).map((a) => badge(a, 'neutral'))) },
    { label: 'Added', cell: (p) => time(p.created_at) },
  ];
  if (app.canEdit) {
    columns.push({
      label: '', sr: 'Actions', class: 'cell-actions',
      cell: (p) => [
        h('button', {
          type: 'button', class: 'btn btn-sm', 'aria-label': `Edit ${p.name || p.issuer}`, dataset: { action: 'edit-idp', idpId: p.id },
          onclick: () => openIdpDialog(ctx, p),
        }, 'Edit'),
        ' ',
        h('button', {
          type: 'button', class: 'btn btn-sm btn-danger-ghost', 'aria-label': `Delete ${p.name || p.issuer}`, dataset: { action: 'delete-idp', idpId: p.id },
          onclick: () => deleteIdp(ctx, p),
        }, 'Delete'),
      ],
    });
  }

  const empty = sorted.length === 0;
  clear(content,
    pageHeader('Identity providers',
      ['Trust your identity provider so your backend can pass ', h('code', {}, 'subject_token'),
        ' to POST /api/v1/public/token: Tessera verifies the provider’s token and issues a session for the user it names. Guide: ',
        h('code', {}, 'docs/TOKEN-EXCHANGE.md'), '.'],
      app.canEdit && !empty ? [addBtn()] : []),
    readonlyNote(app),
    empty
      ? emptyState(app.canEdit
        ? 'No identity providers yet. Add the issuer of your users’ access tokens (Okta, Auth0, Entra ID, Keycloak…) and where its public keys are, and your backend can exchange those tokens for Tessera sessions.'
        : 'No identity providers yet. An owner or admin can add the issuer whose tokens your backend exchanges for Tessera sessions.',
      app.canEdit ? addBtn() : null)
      : table(columns, sorted, { caption: 'Identity providers', rowAttrs: (p) => ({ dataset: { idpId: p.id } }) }));
}

function keysCell(p) {
  if (p.jwks_uri) {
    return h('div', {}, badge('JWKS URL', 'accent'), h('div', { class: 'mono small', title: p.jwks_uri }, breakable(p.jwks_uri)));
  }
  const n = p.jwks && Array.isArray(p.jwks.keys) ? p.jwks.keys.length : 0;
  return h('div', {}, badge('Inline JWKS', 'neutral'), h('div', { class: 'muted small' }, `${n} key${n === 1 ? '' : 's'}`));
}

// The pasted key set → the JWKS object, or throws with a sentence for the field.
export function parseJwks(text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`This is not valid JSON (${e.message}). Paste the whole key set: {"keys": [ … ]}.`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || !Array.isArray(v.keys)) {
    throw new Error('A JWKS is a JSON object with a "keys" list: {"keys": [ … ]}.');
  }
  if (v.keys.length === 0) throw new Error('The key set has no keys.');
  if (v.keys.some((k) => k && typeof k === 'object' && ('d' in k || 'p' in k))) {
    throw new Error('This key set holds a private key. Paste the provider’s public keys only.');
  }
  return v;
}

const jwksText = (jwks) => (jwks ? JSON.stringify(jwks, null, 2) : '');

// Add (idp null) or edit. Edit sends only the fields that changed.
function openIdpDialog(ctx, idp = null) {
  const editing = idp !== null;
  const orig = idp || { name: '', issuer: '', jwks_uri: null, jwks: null, audience: '', email_claim: 'email', algorithms: [...ALGORITHMS] };
  const origSource = orig.jwks && !orig.jwks_uri ? 'paste' : 'url';

  const name = h('input', { type: 'text', id: 'idp-name', value: orig.name, maxlength: '200', autocomplete: 'off', placeholder: 'e.g. Okta' });
  const issuer = h('input', { type: 'url', id: 'idp-issuer', value: orig.issuer, autocomplete: 'off', spellcheck: 'false', placeholder: ISSUER_EXAMPLE });
  const jwksUri = h('input', { type: 'url', id: 'idp-jwks-uri', value: orig.jwks_uri || '', autocomplete: 'off', spellcheck: 'false', placeholder: `${ISSUER_EXAMPLE}/v1/keys` });
  const jwks = h('textarea', { id: 'idp-jwks', rows: '7', spellcheck: 'false', placeholder: '{"keys": [{"kty": "RSA", "kid": "…", "n": "…", "e": "AQAB"}]}' });
  const origJwksText = jwksText(orig.jwks);
  jwks.value = origJwksText;
  const audience = h('input', { type: 'text', id: 'idp-audience', value: orig.audience || '', autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. api://default' });
  const emailClaim = h('input', { type: 'text', id: 'idp-email-claim', value: orig.email_claim || 'email', maxlength: '63', autocomplete: 'off', spellcheck: 'false' });

  // Keys from: JWKS URL | Paste JWKS
  const sourceRadio = (value, label, desc) => {
    const id = `idp-keys-${value}`;
    return h('div', { class: 'radio-card' },
      h('input', { type: 'radio', name: 'idp-keys', id, value, checked: value === origSource, 'aria-describedby': `${id}-desc` }),
      h('label', { for: id }, label),
      h('p', { class: 'radio-desc', id: `${id}-desc` }, desc));
  };
  const sourceGroup = h('fieldset', { class: 'field fieldset', id: 'idp-keys' },
    h('legend', { class: 'field-label' }, 'Keys from'),
    h('div', { class: 'radio-cards' },
      sourceRadio('url', 'JWKS URL', 'Tessera fetches the provider’s public keys from its JWKS endpoint and follows key rotation.'),
      sourceRadio('paste', 'Paste JWKS', 'Paste the public keys. Use it when Tessera cannot reach the provider; update them when it rotates keys.')));
  const source = () => sourceGroup.querySelector('input[name="idp-keys"]:checked').value;

  const jwksUriNode = field('JWKS URL', jwksUri, { hint: 'Where the provider publishes its public keys, e.g. …/v1/keys or …/.well-known/jwks.json. Fetched when a token is first verified, not now.', name: 'jwks_uri' });
  const jwksNode = field('JWKS', jwks, { hint: 'The provider’s public keys as a JSON Web Key Set: {"keys": [ … ]}. Public keys only.', name: 'jwks' });
  const showSource = () => {
    const paste = source() === 'paste';
    jwksUriNode.hidden = paste;
    jwksNode.hidden = !paste;
    setFieldError(jwksUri, '');
    setFieldError(jwks, '');
  };
  for (const r of sourceGroup.querySelectorAll('input')) r.addEventListener('change', showSource);
  showSource();

  // Algorithms: three checkboxes; the first one carries the group's error.
  const algBoxes = ALGORITHMS.map((a) => h('input', {
    type: 'checkbox', id: `idp-alg-${a}`, value: a, checked: (orig.algorithms || []).includes(a),
    'aria-describedby': 'idp-algorithms-hint idp-alg-RS256-error',
  }));
  const algGroup = h('fieldset', { class: 'field fieldset', id: 'idp-algorithms', dataset: { field: 'algorithms' } },
    h('legend', { class: 'field-label' }, 'Algorithms'),
    h('div', { class: 'check-row' }, algBoxes.map((b) => h('span', { class: 'check' }, b, h('label', { for: b.id }, b.value)))),
    h('p', { class: 'field-hint', id: 'idp-algorithms-hint' }, 'The signature algorithms accepted from this provider. Keep only those it uses.'),
    h('p', { class: 'field-error', id: 'idp-alg-RS256-error', hidden: true }));
  for (const b of algBoxes) b.addEventListener('change', () => setFieldError(algBoxes[0], ''));
  const algorithms = () => algBoxes.filter((b) => b.checked).map((b) => b.value);

  // Server errors name their field; "jwks…" ones belong to whichever key source is chosen.
  const when = (src) => ({ test: (d) => source() === src && /jwks/i.test(d) });
  formDialog({
    title: editing ? `Edit “${orig.name || orig.issuer}”` : 'Add identity provider',
    id: editing ? 'edit-idp-dialog' : 'add-idp-dialog',
    submitLabel: editing ? 'Save' : 'Add',
    wide: true,
    fields: [
      { control: name, node: field('Name', name, { hint: 'Shown in this list. Defaults to the issuer.', name: 'name' }), pattern: /^name\b/i },
      { control: issuer, node: field('Issuer', issuer, { hint: ['The exact ', h('code', {}, 'iss'), ' of the provider’s tokens, e.g. ', h('code', {}, ISSUER_EXAMPLE)], name: 'issuer' }), pattern: /\bissuer\b/i },
      { node: sourceGroup },
      { control: jwksUri, node: jwksUriNode, pattern: when('url') },
      { control: jwks, node: jwksNode, pattern: when('paste') },
      {
        control: audience,
        node: field('Audience', audience, {
          hint: ['The ', h('code', {}, 'aud'), ' your provider puts in access tokens. Leave empty to skip the check: less safe, as then tokens this provider issued for any other application are accepted too.'],
          name: 'audience',
        }),
        pattern: /audience/i,
      },
      { control: emailClaim, node: field('Email claim', emailClaim, { hint: 'The claim that holds the user’s email, e.g. email or upn.', name: 'email_claim' }), pattern: /email_claim/i },
      { control: algBoxes[0], node: algGroup, pattern: /algorithm/i },
    ],
    validate() {
      const p = [];
      if (editing && !name.value.trim()) p.push([name, 'Give the identity provider a name.']);
      if (!issuer.value.trim()) p.push([issuer, `Enter the issuer, e.g. ${ISSUER_EXAMPLE}`]);
      if (source() === 'url') {
        if (!jwksUri.value.trim()) p.push([jwksUri, 'Enter the URL of the provider’s JWKS.']);
      } else if (!jwks.value.trim()) {
        p.push([jwks, 'Paste the provider’s JWKS.']);
      } else {
        try { parseJwks(jwks.value); } catch (e) { p.push([jwks, e.message]); }
      }
      if (!emailClaim.value.trim()) p.push([emailClaim, 'Enter the claim that holds the email, e.g. email.']);
      if (algorithms().length === 0) p.push([algBoxes[0], 'Choose at least one algorithm.']);
      return p;
    },
    async onSubmit(ctl) {
      const now = {
        name: name.value.trim(),
        issuer: issuer.value.trim(),
        audience: audience.value.trim(),
        email_claim: emailClaim.value.trim(),
        algorithms: algorithms(),
      };
      const body = {};
      if (!editing) {
        Object.assign(body, now);
        if (!body.name) delete body.name;
        if (source() === 'url') body.jwks_uri = jwksUri.value.trim(); else body.jwks = parseJwks(jwks.value);
      } else {
        for (const k of ['name', 'issuer', 'audience', 'email_claim']) if (now[k] !== (orig[k] || '')) body[k] = now[k];
        if ([...now.algorithms].sort().join() !== [...(orig.algorithms || [])].sort().join()) body.algorithms = now.algorithms;
        if (source() === 'url') {
          if (origSource !== 'url' || jwksUri.value.trim() !== (orig.jwks_uri || '')) body.jwks_uri = jwksUri.value.trim();
        } else if (origSource !== 'paste' || jwks.value !== origJwksText) {
          body.jwks = parseJwks(jwks.value);
        }
        if (Object.keys(body).length === 0) {
          ctl.close();
          toast('No changes to save');
          return;
        }
      }
      const saved = editing ? await api.patch(`/idps/${api.seg(orig.id)}`, body) : await api.post('/idps', body);
      ctl.close();
      const label = (saved && (saved.name || saved.issuer)) || now.name || now.issuer;
      toast(editing ? `Saved “${label}”` : `Added “${label}”`);
      if (ctx.isCurrent()) ctx.app.refresh();
    },
  });
}

function deleteIdp(ctx, p) {
  const label = p.name || p.issuer;
  confirmDialog({
    id: 'delete-idp-dialog',
    title: `Delete “${label}”?`,
    message: [
      `Tokens from ${p.issuer} will no longer be accepted as subject_token at POST /api/v1/public/token. Sessions already issued are not affected.`,
      'This cannot be undone.',
    ],
    confirmLabel: 'Delete',
    async action() {
      await api.del(`/idps/${api.seg(p.id)}`);
      toast(`Deleted “${label}”`);
      if (ctx.isCurrent()) ctx.app.refresh();
    },
  });
}

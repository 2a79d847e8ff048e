// Tessera demo app. It runs in a sandboxed frame inside the Tessera embed page and learns who
// the user is from /sdk/app.js (served by Tessera with CORS, since this frame's origin is opaque).
import * as tessera from '/sdk/app.js';

const $ = (id) => document.getElementById(id);
const ADMIN_ONLY = 'Admin access required to delete';

function renderUser(user) {
  $('user-name').textContent = user ? user.name || '(no name)' : 'Not signed in';
  $('user-email').textContent = user ? user.email || '' : '';
  const groups = user ? user.groups : [];
  $('user-groups').textContent = groups.length ? groups.map((g) => g.name).join(', ') : 'none';
  $('user-metadata').textContent = JSON.stringify(user ? user.metadata : {}, null, 2);

  // Same rule as the Superblocks docs' example: only metadata.isAdmin === true may delete.
  const isAdmin = user?.metadata?.isAdmin === true;
  const button = $('delete');
  button.disabled = !isAdmin;
  for (const node of [button, $('delete-wrap')]) {
    if (isAdmin) node.removeAttribute('title');
    else node.title = ADMIN_ONLY;
  }
}

function renderProperties(properties) {
  $('properties').textContent = JSON.stringify(properties, null, 2);
}

function renderColorScheme(scheme) {
  $('color-scheme').textContent = scheme || 'not set';
  if (scheme) document.documentElement.dataset.colorScheme = scheme;
  else delete document.documentElement.dataset.colorScheme;
}

function renderRoute(route) {
  $('route').textContent = route.pathname + route.search;
}

function render(context) {
  renderUser(context.user);
  renderProperties(context.properties);
  renderColorScheme(context.colorScheme);
  renderRoute(context.route);
}

$('delete').addEventListener('click', () => {
  $('delete-result').textContent = 'Order deleted (demo only: nothing was deleted).';
});

$('emit').addEventListener('click', () => {
  tessera.emit('orderSelected', { id: 42 });
});

$('navigate').addEventListener('click', () => {
  tessera.navigate('/orders?id=3');
});

// Local state only: it survives TOKEN_CHANGE because the embed page does not reload this frame.
$('counter').addEventListener('click', (event) => {
  const button = event.currentTarget;
  const count = Number(button.dataset.count) + 1;
  button.dataset.count = String(count);
  button.textContent = 'Clicked ' + count + (count === 1 ? ' time' : ' times');
});

tessera.on('refresh', (payload) => {
  $('last-trigger').textContent = 'refresh ' + JSON.stringify(payload ?? null, null, 2);
});

// The first context resolves `ready`; later ones (new token, properties, colour scheme, route)
// reach subscribe().
tessera.ready.then((context) => {
  render(context);
  tessera.subscribe(render);
});

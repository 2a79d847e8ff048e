// Tessera demo host page (/app). What a host developer writes: get a session token from the
// host's own backend, load Tessera's host SDK, mount the app, and keep the token fresh.
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const state = { config: null, embed: null, colorScheme: 'light', refreshes: 0 };

  /* ------------------------------------------------------------------ host backend */

  async function getJson(url) {
    const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
    if (response.status === 401) {
      location.assign('/');   // not signed in on the host: back to the sign-in page
      throw new Error('not signed in');
    }
    if (!response.ok) throw new Error(url + ' answered HTTP ' + response.status);
    return response.json();
  }

  // The host's endpoint returns Tessera's reply as is: {access_token, token_type, expires_in}.
  async function fetchToken() {
    const reply = await getJson('/api/superblocks/token');
    if (!reply || typeof reply.access_token !== 'string') throw new Error('the token endpoint returned no access_token');
    return reply.access_token;
  }

  /* ------------------------------------------------------------------ page */

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error('could not load ' + src));
      document.head.appendChild(script);
    });
  }

  function log(type, detail) {
    const item = document.createElement('li');
    const time = document.createElement('time');
    time.textContent = new Date().toLocaleTimeString();
    const name = document.createElement('strong');
    name.textContent = type;
    item.append(time, ' ', name);
    if (detail !== undefined) {
      const pre = document.createElement('pre');
      pre.textContent = JSON.stringify(detail, null, 2);
      item.append(pre);
    }
    item.dataset.type = type;
    $('event-log').prepend(item);
  }

  // Shows who is signed in, from the claims of the host's own session token (display only).
  function showSignedInUser(token) {
    const user = state.config.user || claims(token);
    $('signed-in-user').textContent = user.name || user.user_name || user.email || user.user_email || 'unknown';
  }

  function claims(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      return {};
    }
  }

  function properties() {
    return {
      hostName: 'Acme Portal',
      plan: 'enterprise',
      refreshes: state.refreshes,
      sentAt: new Date().toISOString(),
    };
  }

  /* ------------------------------------------------------------------ the embed */

  async function refreshToken(reason) {
    try {
      const token = await fetchToken();
      state.refreshes += 1;
      state.embed.token = token;   // TOKEN_CHANGE: the app keeps its state
      log('token refreshed', { reason });
    } catch (e) {
      log('token refresh failed', { reason, error: e.message });
    }
  }

  function mount(token) {
    const tesseraUrl = state.config.tesseraUrl.replace(/\/+$/, '');
    state.embed = window.Superblocks.createSuperblocksEmbed({
      id: 'tessera-embed',
      src: tesseraUrl + '/embed/applications/' + encodeURIComponent(state.config.appId),
      token,
      properties: properties(),
      colorScheme: state.colorScheme,
      style: 'height: 100%; width: 100%;',
      onAppLoaded: (app) => log('APP_LOADED', app),
      onAuthError: (err) => log('AUTH_ERROR', err),
      onNavigation: (nav) => log('NAVIGATION', nav),
      onEvent: (eventName, payload) => log('EMIT_EVENT ' + eventName, payload),
      onSessionExpiring: ({ expiresAt }) => {
        log('sessionExpiring', { expiresAt });
        refreshToken('session expiring');
      },
    });
    $('embed-container').replaceChildren(state.embed);
  }

  function wireControls() {
    $('refresh-token').addEventListener('click', () => refreshToken('button'));
    $('trigger-refresh').addEventListener('click', () => {
      const payload = { requestedAt: new Date().toISOString() };
      state.embed.trigger('refresh', payload);
      log('sent TRIGGER_EVENT refresh', payload);
    });
    $('toggle-scheme').addEventListener('click', (event) => {
      state.colorScheme = state.colorScheme === 'light' ? 'dark' : 'light';
      state.embed.colorScheme = state.colorScheme;
      document.documentElement.dataset.colorScheme = state.colorScheme;
      event.currentTarget.textContent = state.colorScheme === 'light' ? 'Dark mode' : 'Light mode';
    });
    $('bump-property').addEventListener('click', () => {
      state.embed.properties = properties();
      log('sent PROPERTY_CHANGE', state.embed.properties);
    });
    for (const button of document.querySelectorAll('.controls button')) button.disabled = false;
  }

  async function main() {
    state.config = await getJson('/config.json');
    const token = await fetchToken();
    showSignedInUser(token);
    await loadScript(state.config.tesseraUrl.replace(/\/+$/, '') + '/sdk/embed.js');
    mount(token);
    wireControls();
  }

  main().catch((e) => {
    if (e.message === 'not signed in') return;
    $('embed-status').textContent = 'Could not load the embedded app: ' + e.message;
    console.error(e);
  });
})();

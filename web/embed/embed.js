/*
 * Tessera embed runtime: the page served at /embed/applications/<APP_ID>[/<page path>].
 *
 * It sits between two frames (docs/EMBED.md):
 *   host page  ── Superblocks embed protocol {type, data} ──  this page
 *   this page  ── in-app protocol {tessera: 1, type, ...} ──  sandboxed app frame (/sdk/app.js)
 *
 * This page alone holds the session token. It checks the token with Tessera, then runs the app in
 * a sandboxed frame with an opaque origin and hands it only the verified user, never the token.
 *
 * The app may call the host's backend API through a Tessera integration (FETCH): this page checks
 * the request and calls /api/v1/integrations/<id>/proxy/<path> itself with the session token, and
 * posts back only the status, a few headers and the body (FETCH_RESULT).
 *
 * Classic script, loaded at the end of <body>: the message listener is installed as soon as it
 * runs, before the document's load event, which is when the official SDK sends INITIALIZE_EMBED.
 */
(function () {
  'use strict';

  const EXPIRY_WARNING_MS = 5 * 60 * 1000;   // sessionExpiring fires this long before expiry
  const MAX_TIMEOUT_MS = 0x7fffffff;         // setTimeout's largest delay (~24.8 days)
  const INIT_HINT_MS = 10 * 1000;            // hint shown if the host never initializes
  const MAX_PENDING = 100;                   // host messages kept while the app config loads
  const MAX_PATH_LENGTH = 2048;
  const APP_SANDBOX = 'allow-scripts allow-forms allow-popups allow-modals allow-downloads';
  const RESERVED_EVENTS = ['sessionExpiring'];  // host events only Tessera itself may emit

  // FETCH (app → integration proxy): what an app may ask for, and what it gets back.
  const FETCH_MAX_IN_FLIGHT = 8;             // per embed page; more get a too_many_requests result
  const FETCH_TIMEOUT_MS = 30 * 1000;
  const FETCH_MAX_PATH_LENGTH = 2048;
  const FETCH_MAX_BODY_BYTES = 64 * 1024;    // the server's limit too
  const FETCH_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
  const FETCH_MAX_HEADER_LENGTH = 1024;
  const FETCH_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
  const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const FETCH_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
  // Request headers an app may set. Never Authorization or Cookie: this page sets the credentials.
  const FETCH_REQUEST_HEADERS = ['accept', 'accept-language', 'content-type', 'if-match', 'if-none-match'];
  // Response headers handed back to the app.
  const FETCH_RESPONSE_HEADERS = ['content-type', 'content-language', 'cache-control', 'etag', 'last-modified', 'retry-after'];

  // Friendly in-frame titles; the server's error_description is shown beneath them.
  const ERROR_TITLES = {
    expired: 'Your session has expired',
    revoked: 'Your session has ended',
    forbidden: 'You do not have access to this app',
    invalid: 'Your session could not be verified',
    origin_not_allowed: 'This site may not embed this app',
    not_found: 'This app does not exist',
    network: 'Tessera could not be reached',
    not_embedded: 'This app is meant to be embedded',
  };

  /* ------------------------------------------------------------------ state */

  const state = {
    appId: null,          // from the URL
    prefix: null,         // "/embed/applications/<id>" or "/code-mode/embed/applications/<id>"
    embedId: null,        // the SDK's embed_id query parameter, kept on navigation
    route: { pathname: '/', search: '' },  // the app's page path and query (no embed_id)

    config: null,         // {id, name, mode, allowed_origins} from GET /api/v1/embed/apps/<id>
    configFailed: false,
    pending: [],          // host messages received before the config arrived

    hostOrigin: null,     // origin of the accepted INITIALIZE_EMBED
    refusedOrigin: null,  // a framing origin that is not allowed (reported once)
    initialized: false,
    token: null,          // session token: memory only, never logged, never sent to the app
    properties: {},
    colorScheme: null,    // 'light' | 'dark' | null

    session: null,        // {user, expiresAt} of the last successful verification
    verifySeq: 0,         // only the newest verification may apply its result
    expiryTimer: null,
    watch: null,          // {token, controller, failures}: the long poll for the end of the session

    appFrame: null,
    appReady: false,      // the app frame has sent READY
    appLoadedPosted: false,
    pendingTriggers: [],  // TRIGGER_EVENTs received before the app was ready
    appGeneration: 0,     // counts app documents (READYs, mounts): a FETCH_RESULT goes only to the asker
    fetchesInFlight: 0,
  };

  /* ------------------------------------------------------------------ URL */

  const PATH_RE = /^(\/(?:code-mode\/)?embed\/applications\/([^/?#]+))(\/[^?#]*)?$/;

  function parseLocation() {
    const match = PATH_RE.exec(location.pathname);
    if (!match) return false;
    try {
      state.appId = decodeURIComponent(match[2]);
    } catch (e) {
      return false;
    }
    state.prefix = match[1];
    const params = new URLSearchParams(location.search);
    state.embedId = params.get('embed_id');
    params.delete('embed_id');
    state.route = { pathname: match[3] && match[3] !== '/' ? match[3] : '/', search: queryString(params) };
    return true;
  }

  function queryString(params) {
    const text = params.toString();
    return text ? '?' + text : '';
  }

  // The embed page's own URL for an app route: the prefix, the page path, the app's query and
  // the SDK's embed_id.
  function embedUrlFor(route) {
    const params = new URLSearchParams(route.search);
    if (state.embedId !== null) params.set('embed_id', state.embedId);
    const path = route.pathname === '/' ? '' : route.pathname;
    return location.origin + state.prefix + path + queryString(params);
  }

  // Parses an app-supplied path like "/orders?id=3". Only same-page paths are accepted: it must
  // start with a single "/", so it can never name another origin.
  function parseAppPath(path) {
    if (typeof path !== 'string' || path.length > MAX_PATH_LENGTH) return null;
    if (!path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\')) return null;
    let url;
    try {
      url = new URL(path, 'https://app.invalid');
    } catch (e) {
      return null;
    }
    if (url.origin !== 'https://app.invalid') return null;
    url.searchParams.delete('embed_id');   // the SDK's parameter is not the app's to set
    return { pathname: url.pathname, search: queryString(url.searchParams) };
  }

  /* ------------------------------------------------------------------ messaging */

  // Posts to the host page, only ever to its verified origin (never '*').
  function postToHost(type, data, origin) {
    const target = origin || state.hostOrigin;
    if (!target) return;
    const message = data === undefined ? { type } : { type, data };
    window.parent.postMessage(message, target);
  }

  // The app frame has an opaque origin, which cannot be named as a target: '*' is the only
  // possible target. What is sent is limited to CONTEXT, TRIGGER and FETCH_RESULT, never the token.
  function postToApp(message) {
    const win = state.appFrame && state.appFrame.contentWindow;
    if (!win) return;
    try {
      win.postMessage(Object.assign({ tessera: 1 }, message), '*');
    } catch (e) {
      console.error('Tessera embed: could not send ' + message.type + ' to the app:', e.message);
    }
  }

  function isProtocolMessage(data) {
    return data !== null && typeof data === 'object' && typeof data.type === 'string';
  }

  function onMessage(event) {
    // Security: app messages are accepted only from our own app frame's window.
    if (state.appFrame && event.source === state.appFrame.contentWindow) {
      onAppMessage(event.data);
      return;
    }
    // Security: host messages are accepted only from the window that frames this page; the
    // origin is checked against the app's allowed origins in acceptHostMessage.
    if (window.parent !== window && event.source === window.parent) {
      if (state.config) {
        acceptHostMessage(event.origin, event.data);
      } else if (!state.configFailed && state.pending.length < MAX_PENDING) {
        state.pending.push({ origin: event.origin, data: event.data });
      }
      return;
    }
    console.warn('Tessera embed: ignored a message from ' + event.origin +
      ': it comes neither from the page that frames this embed nor from the app.');
  }

  function flushPending() {
    const queued = state.pending;
    state.pending = [];
    for (const item of queued) acceptHostMessage(item.origin, item.data);
  }

  // Security: the sender's origin must be one of the app's allowed origins; messages from any
  // other origin are dropped, and nothing is ever posted back to it.
  function acceptHostMessage(origin, data) {
    if (!state.config.allowed_origins.includes(origin)) {
      if (isProtocolMessage(data) && data.type === 'INITIALIZE_EMBED') {
        refuseHostOrigin(origin);
      } else {
        console.warn('Tessera embed: ignored a message from ' + origin +
          ', which is not an allowed origin of this app.');
      }
      return;
    }
    if (!isProtocolMessage(data)) return;
    handleHostMessage(origin, data.type, isObject(data.data) ? data.data : {});
  }

  function refuseHostOrigin(origin) {
    if (state.refusedOrigin === origin) return;   // said once is enough
    state.refusedOrigin = origin;
    console.error('Tessera embed: the page at ' + origin + ' embeds app "' + state.config.name +
      '" but ' + origin + ' is not one of its allowed origins, so this embed will not talk to it. ' +
      'An admin can add ' + origin + ' to the app\'s allowed origins.');
    showError('origin_not_allowed',
      origin + ' is not one of this app\'s allowed origins. Ask an administrator to add it.');
  }

  function handleHostMessage(origin, type, data) {
    switch (type) {
      case 'INITIALIZE_EMBED': return onInitialize(origin, data);
      case 'TOKEN_CHANGE': return onTokenChange(data.token);
      case 'PROPERTY_CHANGE': return onPropertyChange(data.properties);
      case 'COLOR_SCHEME_CHANGE': return onColorSchemeChange(data.colorScheme);
      case 'TRIGGER_EVENT': return onTriggerEvent(data.eventName, data.payload);
      default: return undefined;  // unknown types are ignored, for forward compatibility
    }
  }

  /* ------------------------------------------------------------------ host → embed */

  function onInitialize(origin, data) {
    postToHost('INITIALIZED', undefined, origin);  // once per accepted INITIALIZE_EMBED
    state.hostOrigin = origin;
    const token = normalizeToken(data.token);

    if (!state.initialized) {
      state.initialized = true;
      state.token = token;
      state.properties = normalizeProperties(data.properties);
      applyColorScheme(data.colorScheme);
      start();
      return;
    }
    // A repeated INITIALIZE_EMBED (the official SDK sends two; Tessera's retries): the app is
    // not restarted, changes are applied as the matching *_CHANGE message would.
    if ('properties' in data && !sameJson(data.properties, state.properties)) {
      onPropertyChange(data.properties);
    }
    if ('colorScheme' in data && normalizeColorScheme(data.colorScheme) !== state.colorScheme) {
      onColorSchemeChange(data.colorScheme);
    }
    if (token !== state.token) onTokenChange(token);
  }

  function onTokenChange(rawToken) {
    state.token = normalizeToken(rawToken);
    if (!state.initialized) return;  // INITIALIZE_EMBED will start with the newest token
    if (!state.token && state.config.mode === 'private' && !state.appFrame) {
      showSignIn();
      return;
    }
    verifySession();
  }

  function onPropertyChange(properties) {
    state.properties = normalizeProperties(properties);
    sendContext();
  }

  function onColorSchemeChange(colorScheme) {
    applyColorScheme(colorScheme);
    sendContext();
  }

  function onTriggerEvent(eventName, payload) {
    if (typeof eventName !== 'string' || eventName === '') return;
    if (!state.appReady) {
      if (state.pendingTriggers.length < MAX_PENDING) state.pendingTriggers.push({ eventName, payload });
      return;
    }
    postToApp({ type: 'TRIGGER', eventName, payload });
  }

  /* ------------------------------------------------------------------ app → embed */

  function onAppMessage(data) {
    if (!isProtocolMessage(data) || data.tessera !== 1) return;
    switch (data.type) {
      case 'READY': return onAppReady();
      case 'EMIT': return onAppEmit(data.eventName, data.payload);
      case 'NAVIGATE': return onAppNavigate(data.path);
      case 'FETCH': return onAppFetch(data);
      default: return undefined;
    }
  }

  function onAppReady() {
    state.appReady = true;   // READY again after the app reloads itself: context is re-sent
    state.appGeneration += 1;
    sendContext();
    const triggers = state.pendingTriggers;
    state.pendingTriggers = [];
    for (const t of triggers) postToApp({ type: 'TRIGGER', eventName: t.eventName, payload: t.payload });
    if (!state.appLoadedPosted) {
      state.appLoadedPosted = true;
      postToHost('APP_LOADED', { id: state.config.id, name: state.config.name });
    }
  }

  function onAppEmit(eventName, payload) {
    if (typeof eventName !== 'string' || eventName === '' || eventName.length > 200) return;
    // Security: the app may not impersonate events that Tessera itself sends to the host.
    if (RESERVED_EVENTS.includes(eventName)) {
      console.warn('Tessera embed: the app may not emit the reserved event "' + eventName + '".');
      return;
    }
    postToHost('EMIT_EVENT', { eventName, payload });
  }

  function onAppNavigate(path) {
    const route = parseAppPath(path);
    if (!route) {
      console.warn('Tessera embed: ignored navigation to an invalid path; use a path such as "/orders?id=3".');
      return;
    }
    state.route = route;
    const url = embedUrlFor(route);
    history.replaceState(history.state, '', url);
    sendContext();
    postToHost('NAVIGATION', {
      url: location.href,
      href: location.href,
      appId: state.appId,
      pathname: route.pathname,
      search: route.search,
      queryParams: Object.fromEntries(new URLSearchParams(route.search)),
    });
  }

  /* ------------------------------------------------------------------ app → integration proxy */

  // FETCH {id, integrationId, path, method, headers, body}: the app asks for a call of the host's
  // backend API through a Tessera integration. This page makes the call with the session token and
  // answers FETCH_RESULT {id, response: {status, headers, body}} or {id, error: {code, message}}.
  // Security: the app chooses only the integration (a UUID), a path under it, the method, a few
  // harmless headers and a body. It cannot name another URL, set credentials, or see the token.
  function onAppFetch(data) {
    if (typeof data.id !== 'string' || !FETCH_ID_RE.test(data.id)) {
      console.warn('Tessera embed: ignored a FETCH without a valid id.');
      return;
    }
    const reply = fetchReplier(data.id);
    const request = checkFetchRequest(data);
    if (request.error) {
      console.warn('Tessera embed: refused the app\'s FETCH: ' + request.error);
      reply({ error: { code: request.code || 'invalid_request', message: request.error } });
      return;
    }
    if (!state.token || !state.session || !state.session.user) {
      reply({ error: { code: 'no_session', message: 'there is no signed-in user to call the integration for' } });
      return;
    }
    if (state.fetchesInFlight >= FETCH_MAX_IN_FLIGHT) {
      reply({ error: { code: 'too_many_requests', message: 'at most ' + FETCH_MAX_IN_FLIGHT + ' requests may be in flight' } });
      return;
    }
    state.fetchesInFlight += 1;
    proxyFetch(request, state.token).then(reply, (e) => {
      reply({ error: { code: 'network', message: String((e && e.message) || e) } });
    }).finally(() => {
      state.fetchesInFlight -= 1;
    });
  }

  // Returns a function that posts a FETCH_RESULT to the app document that asked, if it is
  // still the one in the frame (not another app document, not after the session ended).
  function fetchReplier(id) {
    const frame = state.appFrame;
    const generation = state.appGeneration;
    return (result) => {
      if (!frame || state.appFrame !== frame || state.appGeneration !== generation) return;
      postToApp(Object.assign({ type: 'FETCH_RESULT', id }, result));
    };
  }

  // Checks a FETCH; returns {integrationId, path, method, headers, body} or {error, code}.
  function checkFetchRequest(data) {
    const bad = (error, code) => ({ error, code });
    if (typeof data.integrationId !== 'string' || !UUID_RE.test(data.integrationId)) {
      return bad('the integration id must be a UUID');
    }
    const path = data.path;
    if (!isProxyPath(path)) {
      return bad('the path must start with a single "/", be at most ' + FETCH_MAX_PATH_LENGTH +
        ' characters and have no "." or ".." segments, encoded slashes, backslashes or fragment');
    }
    const method = data.method === undefined ? 'GET' : typeof data.method === 'string' ? data.method.toUpperCase() : '';
    if (!FETCH_METHODS.includes(method)) return bad('the method must be one of ' + FETCH_METHODS.join(', '));
    const headers = {};
    if (data.headers !== undefined && data.headers !== null) {
      if (!isObject(data.headers)) return bad('headers must be an object');
      const entries = Object.entries(data.headers);
      if (entries.length > FETCH_REQUEST_HEADERS.length) return bad('too many headers');
      for (const [rawName, value] of entries) {
        const name = rawName.toLowerCase();
        if (!FETCH_REQUEST_HEADERS.includes(name)) {
          return bad('the header "' + rawName.slice(0, 64) + '" may not be sent; allowed: ' + FETCH_REQUEST_HEADERS.join(', '));
        }
        // Latin-1 without control characters (tab allowed): no header splitting.
        if (typeof value !== 'string' || value.length > FETCH_MAX_HEADER_LENGTH || !/^[\t\x20-\x7e\x80-\xff]*$/.test(value)) {
          return bad('the header "' + name + '" must be a printable string of at most ' + FETCH_MAX_HEADER_LENGTH + ' characters');
        }
        headers[name] = value;
      }
    }
    let body;
    if (data.body !== undefined && data.body !== null) {
      if (typeof data.body !== 'string') return bad('the body must be a string');
      if (method === 'GET') return bad('a GET request cannot have a body');
      if (data.body.length > FETCH_MAX_BODY_BYTES || new TextEncoder().encode(data.body).length > FETCH_MAX_BODY_BYTES) {
        return bad('the body is larger than ' + FETCH_MAX_BODY_BYTES / 1024 + ' KiB', 'too_large');
      }
      body = data.body;
    }
    return { integrationId: data.integrationId.toLowerCase(), path, method, headers, body };
  }

  // A path under the integration's base URL: "/" then segments, optionally "?query". Refused:
  // "//" at the start, backslashes (URL parsers read them as "/"), "#", control characters,
  // malformed percent-escapes, and any segment that, percent-decoded once or more (double
  // encoding), is "." or ".." or holds a "/" or "\".
  function isProxyPath(path) {
    if (typeof path !== 'string' || path.length === 0 || path.length > FETCH_MAX_PATH_LENGTH) return false;
    if (path[0] !== '/' || path.startsWith('//')) return false;
    if (/[\\#\x00-\x1f\x7f]/.test(path)) return false;
    const q = path.indexOf('?');
    const pathname = q === -1 ? path : path.slice(0, q);
    return pathname.split('/').every(isPlainSegment);
  }

  function isPlainSegment(segment) {
    let current = segment;
    for (let round = 0; round < 3; round++) {
      let decoded;
      try {
        decoded = decodeURIComponent(current);
      } catch (e) {
        return round > 0;   // malformed as sent: refused; malformed after decoding: plain text
      }
      if (decoded === '.' || decoded === '..' || /[\/\\]/.test(decoded)) return false;
      if (decoded === current) return true;
      current = decoded;
    }
    return true;
  }

  // Calls the integration proxy; resolves with a FETCH_RESULT's {response} or {error}.
  async function proxyFetch(request, token) {
    const base = '/api/v1/integrations/' + request.integrationId + '/proxy';
    const url = new URL(base + request.path, location.origin);
    // Defence in depth: whatever the path, the request stays on this origin, under the proxy.
    if (url.origin !== location.origin || !url.pathname.startsWith(base + '/')) {
      return { error: { code: 'invalid_request', message: 'the path leaves the integration' } };
    }
    const headers = Object.assign({}, request.headers, { Authorization: 'Bearer ' + token });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
    try {
      let response;
      try {
        response = await fetch(url.href, {
          method: request.method,
          headers,
          body: request.body,
          mode: 'same-origin',
          credentials: 'omit',    // the bearer token only, never cookies
          redirect: 'error',      // the proxy never redirects; a redirect is refused
          cache: 'no-store',      // per-user data stays out of the HTTP cache
          referrerPolicy: 'no-referrer',
          signal: controller.signal,
        });
      } catch (e) {
        const timedOut = controller.signal.aborted;
        return { error: { code: timedOut ? 'timeout' : 'network', message: timedOut ? 'Tessera did not answer in time' : 'Tessera could not be reached' } };
      }
      const text = await readBounded(response, FETCH_MAX_RESPONSE_BYTES);
      if (text === null) {
        return { error: { code: 'too_large', message: 'the response is larger than ' + FETCH_MAX_RESPONSE_BYTES / (1024 * 1024) + ' MiB' } };
      }
      const headersOut = {};
      for (const name of FETCH_RESPONSE_HEADERS) {
        const value = response.headers.get(name);
        if (value !== null) headersOut[name] = value;
      }
      return { response: { status: response.status, headers: headersOut, body: text } };
    } catch (e) {
      const timedOut = controller.signal.aborted;
      return { error: { code: timedOut ? 'timeout' : 'network', message: timedOut ? 'Tessera did not answer in time' : 'the response could not be read' } };
    } finally {
      clearTimeout(timer);
    }
  }

  // The body as text, or null past `limit` bytes (reading stops there).
  async function readBounded(response, limit) {
    if (!response.body) return '';
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let size = 0;
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        reader.cancel().catch(() => {});
        return null;
      }
      text += decoder.decode(value, { stream: true });
    }
    return text + decoder.decode();
  }

  // CONTEXT goes to the app after READY and whenever user, properties, colour scheme or route
  // change. It carries the verified user only: the token never leaves this page.
  function sendContext() {
    if (!state.appReady || !state.session) return;
    postToApp({
      type: 'CONTEXT',
      user: state.session.user,
      properties: state.properties,
      colorScheme: state.colorScheme,
      route: { pathname: state.route.pathname, search: state.route.search },
    });
  }

  /* ------------------------------------------------------------------ Tessera API */

  async function apiRequest(method, path, body, token) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = 'Bearer ' + token;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',   // bearer tokens only, no cookies
        cache: 'no-store',
      });
    } catch (e) {
      return { ok: false, status: 0, code: 'network', error: 'Tessera could not be reached. Check your connection and try again.' };
    }
    let json = null;
    try {
      json = await response.json();
    } catch (e) {
      json = null;
    }
    if (response.ok) {
      const data = json && isObject(json.data) ? json.data : json;
      return { ok: true, status: response.status, data: data || {} };
    }
    return {
      ok: false,
      status: response.status,
      code: json && typeof json.code === 'string' ? json.code : null,
      error: json && typeof json.error_description === 'string' ? json.error_description : null,
      retryAfter: response.headers.get('Retry-After'),
    };
  }

  async function loadConfig() {
    const result = await apiRequest('GET', '/api/v1/embed/apps/' + encodeURIComponent(state.appId));
    if (!result.ok) {
      state.configFailed = true;
      state.pending = [];
      const kind = result.status === 404 ? 'not_found' : 'network';
      console.error('Tessera embed: could not load app ' + state.appId + ': ' +
        (result.error || 'HTTP ' + result.status));
      showError(kind, result.status === 404 ? 'Check the app id in the embed URL.' : result.error);
      return;
    }
    const c = result.data;
    state.config = {
      id: String(c.id || state.appId),
      name: typeof c.name === 'string' ? c.name : '',
      mode: typeof c.mode === 'string' ? c.mode : 'sso',
      allowed_origins: Array.isArray(c.allowed_origins) ? c.allowed_origins.filter((o) => typeof o === 'string') : [],
    };
    document.title = state.config.name || document.title;
    checkAncestorOrigin();
    flushPending();
    scheduleInitHint();
  }

  // Where the browser tells us the framing page's origin (Chromium's location.ancestorOrigins),
  // explain a disallowed host right away instead of waiting for its INITIALIZE_EMBED.
  function checkAncestorOrigin() {
    const ancestors = location.ancestorOrigins;
    if (!ancestors || ancestors.length === 0 || state.initialized) return;
    const parentOrigin = ancestors[0];
    if (!state.config.allowed_origins.includes(parentOrigin)) refuseHostOrigin(parentOrigin);
  }

  /* ------------------------------------------------------------------ session */

  function start() {
    if (!state.token && state.config.mode === 'private') {
      showSignIn();
      return;
    }
    verifySession();
  }

  async function verifySession() {
    const seq = ++state.verifySeq;
    if (!state.appFrame) showStatus('Checking your session…');
    // refresh: the host swapped the token of a running app (TOKEN_CHANGE); audited as session.refreshed.
    const body = state.appFrame && state.session ? { app_id: state.appId, refresh: true } : { app_id: state.appId };
    const result = await apiRequest('POST', '/api/v1/embed/session', body, state.token);
    if (seq !== state.verifySeq) return;  // a newer token arrived meanwhile; its check decides
    if (result.ok) {
      onSessionVerified(result.data);
    } else {
      onSessionRejected(result);
    }
  }

  function onSessionVerified(data) {
    state.session = { user: normalizeUser(data.user), expiresAt: data.expires_at || null };
    scheduleExpiryWarning();
    startWatch();
    if (state.appFrame) {
      sendContext();   // TOKEN_CHANGE: same app frame, new user; app state is kept
      return;
    }
    mountAppFrame(data.frame_url);
  }

  function onSessionRejected(result) {
    const code = result.code && result.code !== 'network' ? result.code : 'invalid';
    const error = result.error || ERROR_TITLES[code] || ERROR_TITLES.invalid;
    postToHost('AUTH_ERROR', { error, code });
    // A transient failure (network, 5xx, throttling) does not stop an app that is running on a
    // session already verified. A refusal (401/403) does: the page must not keep showing an
    // identity that the host's current token does not prove.
    const refused = result.status === 401 || result.status === 403;
    if (state.appFrame && !refused) {
      console.warn('Tessera embed: the session could not be re-verified (' + error + '); the app keeps its current session.');
      return;
    }
    endSession();
    if (state.config.mode === 'private' && refused) {
      showSignIn(error);
    } else {
      showError(result.code === 'network' ? 'network' : code, error);
    }
  }

  function endSession() {
    clearTimeout(state.expiryTimer);
    state.expiryTimer = null;
    state.session = null;
    stopWatch();
    unmountAppFrame();
  }

  // The session watch: a long poll (POST /api/v1/embed/watch, the token in the Authorization
  // header) that the server answers when the session ends — revoked, expired, its access token
  // revoked — or after about 25 s, when the page asks again. A revocation reaches the page within
  // a second or two; it then ends the session as a refused verification would (AUTH_ERROR).
  function startWatch() {
    stopWatch();
    if (!state.token || !state.session) return;  // anonymous viewers of public apps have nothing to end
    const watch = { token: state.token, controller: new AbortController(), failures: 0 };
    state.watch = watch;
    watchLoop(watch);
  }

  function stopWatch() {
    if (state.watch) state.watch.controller.abort();
    state.watch = null;
  }

  async function watchLoop(watch) {
    while (state.watch === watch) {
      let response = null;
      let json = null;
      try {
        response = await fetch('/api/v1/embed/watch', {
          method: 'POST',
          headers: { Authorization: 'Bearer ' + watch.token, Accept: 'application/json' },
          credentials: 'omit',
          cache: 'no-store',
          signal: watch.controller.signal,
        });
        json = await response.json();
      } catch (e) {
        json = null;
      }
      if (state.watch !== watch) return;  // stopped, or a new token took over
      if (response && response.status === 401) {
        onSessionRejected({
          ok: false,
          status: 401,
          code: json && typeof json.code === 'string' ? json.code : 'invalid',
          error: json && typeof json.error_description === 'string' ? json.error_description : null,
        });
        return;
      }
      if (response && response.ok) {
        watch.failures = 0;
        continue;
      }
      // The server could not be reached or is busy: ask again later, more slowly each time.
      watch.failures += 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** (watch.failures - 1), 15000)));
    }
  }

  // sessionExpiring is emitted to the host 5 minutes before the session ends (at once when less
  // is left); a new verification (TOKEN_CHANGE) reschedules it.
  function scheduleExpiryWarning() {
    clearTimeout(state.expiryTimer);
    state.expiryTimer = null;
    const expiresAt = state.session && Date.parse(state.session.expiresAt);
    if (!expiresAt) return;
    const delay = expiresAt - EXPIRY_WARNING_MS - Date.now();
    if (delay <= 0) {
      postToHost('EMIT_EVENT', { eventName: 'sessionExpiring', payload: { expiresAt: state.session.expiresAt } });
      return;
    }
    // Long delays are reached in steps: setTimeout cannot wait longer than MAX_TIMEOUT_MS.
    state.expiryTimer = setTimeout(scheduleExpiryWarning, Math.min(delay, MAX_TIMEOUT_MS));
  }

  /* ------------------------------------------------------------------ app frame */

  function mountAppFrame(frameUrl) {
    // Security: the app must come from this server's /apps/ path (ticketed files).
    let url;
    try {
      url = new URL(frameUrl, location.href);
    } catch (e) {
      url = null;
    }
    if (!url || url.origin !== location.origin || !url.pathname.startsWith('/apps/')) {
      console.error('Tessera embed: the server returned an unexpected app URL; the app is not loaded.');
      showError('invalid', 'The app could not be loaded.');
      return;
    }
    const frame = document.createElement('iframe');
    frame.className = 'app-frame';
    // Security: no allow-same-origin, so the app runs in an opaque origin and cannot reach this
    // page, its token, or Tessera's storage.
    frame.setAttribute('sandbox', APP_SANDBOX);
    frame.setAttribute('referrerpolicy', 'no-referrer');
    frame.title = state.config.name || 'App';
    frame.src = url.pathname + url.search;
    state.appFrame = frame;
    state.appReady = false;
    state.appGeneration += 1;
    stage().replaceChildren(frame);
  }

  function unmountAppFrame() {
    if (!state.appFrame) return;
    state.appFrame.remove();
    state.appFrame = null;
    state.appReady = false;
  }

  /* ------------------------------------------------------------------ private apps: sign-in */

  function showSignIn(message) {
    const form = el('form', { className: 'panel signin' });
    form.append(
      el('h1', { textContent: 'Sign in' }),
      el('p', { className: 'muted', textContent: 'to continue to ' + (state.config.name || 'this app') }),
      el('p', { className: 'form-error', role: 'alert', hidden: !message, textContent: message || '' }),
      field('Email', { type: 'email', name: 'email', autocomplete: 'username', required: true }),
      field('Password', { type: 'password', name: 'password', autocomplete: 'current-password', required: true }),
      el('button', { type: 'submit', className: 'button', textContent: 'Sign in' }),
    );
    form.addEventListener('submit', onSignInSubmit);
    stage().replaceChildren(form);
    form.elements.email.focus();
  }

  function field(label, attrs) {
    const wrapper = el('label', { className: 'field' });
    wrapper.append(el('span', { textContent: label }), el('input', attrs));
    return wrapper;
  }

  async function onSignInSubmit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const button = form.querySelector('button');
    const errorBox = form.querySelector('.form-error');
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    button.disabled = true;
    errorBox.hidden = true;
    const result = await apiRequest('POST', '/api/v1/embed/login', { app_id: state.appId, email, password });
    form.elements.password.value = '';
    button.disabled = false;
    if (result.ok && typeof result.data.access_token === 'string') {
      state.token = result.data.access_token;   // used exactly like a host-provided token
      verifySession();
      return;
    }
    errorBox.textContent = signInErrorText(result);
    errorBox.hidden = false;
    form.elements.password.focus();
  }

  function signInErrorText(result) {
    if (result.status === 429) {
      const seconds = parseInt(result.retryAfter, 10);
      return 'Too many attempts. Try again ' + (seconds > 0 ? 'in ' + seconds + ' seconds.' : 'later.');
    }
    if (result.status === 401) return result.error || 'Wrong email or password.';
    return result.error || 'Sign-in failed. Please try again.';
  }

  /* ------------------------------------------------------------------ page states */

  function stage() {
    return document.getElementById('stage');
  }

  function showStatus(text) {
    const box = el('div', { className: 'status', role: 'status' });
    box.append(el('div', { className: 'spinner', ariaHidden: 'true' }), el('p', { className: 'status-text', textContent: text }));
    stage().replaceChildren(box);
  }

  // kind: a key of ERROR_TITLES (an AUTH_ERROR code or a page-level failure).
  function showError(kind, detail) {
    const box = el('div', { className: 'panel error', role: 'alert' });
    box.append(el('h1', { textContent: ERROR_TITLES[kind] || ERROR_TITLES.invalid }));
    if (detail) box.append(el('p', { className: 'muted', textContent: detail }));
    stage().replaceChildren(box);
  }

  function scheduleInitHint() {
    setTimeout(() => {
      if (state.initialized || state.configFailed || state.appFrame) return;
      const text = document.querySelector('.status-text');
      if (text) {
        text.textContent = 'Waiting for the host page to start the app. It must use the Superblocks ' +
          'embed SDK and be served from one of this app\'s allowed origins.';
      }
    }, INIT_HINT_MS);
  }

  function applyColorScheme(value) {
    state.colorScheme = normalizeColorScheme(value);
    if (state.colorScheme) {
      document.documentElement.dataset.colorScheme = state.colorScheme;
    } else {
      delete document.documentElement.dataset.colorScheme;  // CSS follows the OS preference
    }
  }

  /* ------------------------------------------------------------------ helpers */

  function el(tag, props) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === 'role' || key === 'autocomplete' || key === 'name' || key === 'type') {
        node.setAttribute(key, value);
      } else if (key === 'ariaHidden') {
        node.setAttribute('aria-hidden', value);
      } else {
        node[key] = value;
      }
    }
    return node;
  }

  function isObject(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  }

  function sameJson(a, b) {
    try {
      return JSON.stringify(a) === JSON.stringify(b);
    } catch (e) {
      return false;
    }
  }

  function normalizeToken(token) {
    return typeof token === 'string' && token.trim() !== '' ? token.trim() : null;
  }

  function normalizeProperties(properties) {
    return isObject(properties) ? properties : {};
  }

  function normalizeColorScheme(value) {
    return value === 'light' || value === 'dark' ? value : null;
  }

  // The user handed to the app: exactly these fields, whatever else the server's reply holds.
  function normalizeUser(user) {
    if (!isObject(user)) return null;
    const groups = Array.isArray(user.groups) ? user.groups : [];
    return {
      id: user.id == null ? null : String(user.id),
      email: typeof user.email === 'string' ? user.email : null,
      name: typeof user.name === 'string' ? user.name : null,
      groups: groups.filter(isObject).map((g) => ({ id: String(g.id), name: String(g.name) })),
      metadata: isObject(user.metadata) ? user.metadata : {},
      userType: user.userType || user.user_type || user.type || null,
    };
  }

  /* ------------------------------------------------------------------ start */

  window.addEventListener('message', onMessage);

  if (!parseLocation()) {
    showError('not_found', 'The embed URL must look like /embed/applications/<app id>.');
  } else if (window.parent === window) {
    // Opened directly rather than framed: there is no host to initialize the app.
    showError('not_embedded', 'Open it from the site that embeds it.');
  } else {
    loadConfig();
  }
})();

/*
 * Tessera in-app library, served at <tessera>/sdk/app.js. For apps that run inside a Tessera
 * embed (docs/EMBED.md section 4):
 *
 *   import * as tessera from '/sdk/app.js';
 *   await tessera.ready;
 *   const user = tessera.getUser();        // {id, email, name, groups, metadata, userType} or null
 *   tessera.onUserChange((user) => ...);
 *   tessera.emit('orderSelected', {id: 42});
 *   tessera.on('refresh', (payload) => ...);
 *   tessera.navigate('/orders?id=3');
 *   const res = await tessera.fetch(INTEGRATION_ID, '/orders?status=open');   // a Response
 *
 * The app runs in a sandboxed frame with an opaque origin; its parent is the Tessera embed page,
 * which verifies the user and never hands the session token to the app. Importing this module
 * posts READY; the embed page answers with CONTEXT, and again whenever the context changes.
 * The module also sets globalThis.TesseraApp to its API (used by @tessera/embed-react hooks).
 *
 * fetch(integrationId, path, init) calls the host's backend API on the user's behalf through a
 * Tessera integration (docs/EMBED.md section 9): the app posts FETCH to the embed page, which
 * calls /api/v1/integrations/<id>/proxy<path> with the session token it holds and posts back
 * FETCH_RESULT. Tessera exchanges the user's subject token for an access token of the host API
 * server-side; neither token ever reaches the app. The promise resolves to a Response built in
 * this frame (any HTTP status, including Tessera's own 401/404/409/413/502/503 JSON errors) and
 * rejects with a TypeError (with a .code) when nothing could be asked: no signed-in user, an
 * invalid request, too many requests in flight, a network error or a timeout.
 */

const parent = window.parent;

let context = null;   // the last CONTEXT, frozen
const EMPTY = Object.freeze({});
const ROOT_ROUTE = Object.freeze({ pathname: '/', search: '' });
let resolveReady;

/** Resolves with the first context ({user, properties, colorScheme, route}). */
export const ready = new Promise((resolve) => { resolveReady = resolve; });

const subscribers = new Set();                 // (context, previous) => void, on any change
const userListeners = new Set();
const propertiesListeners = new Set();
const colorSchemeListeners = new Set();
const routeListeners = new Set();
const eventHandlers = new Map();               // eventName -> Set of (payload, eventName) => void

/* ------------------------------------------------------------------ reading the context */

/** The signed-in user: {id, email, name, groups: [{id, name}], metadata, userType}, or null. */
export function getUser() {
  return context ? context.user : null;
}

/** The properties passed by the host page (an object; {} until the first context). */
export function getProperties() {
  return context ? context.properties : EMPTY;
}

/** 'light', 'dark', or null when the host did not say. */
export function getColorScheme() {
  return context ? context.colorScheme : null;
}

/** The app's page: {pathname, search}, e.g. {pathname: '/orders', search: '?id=3'}. */
export function getRoute() {
  return context ? context.route : ROOT_ROUTE;
}

/** The whole current context, or null before the first one. */
export function getContext() {
  return context;
}

/* ------------------------------------------------------------------ listening */

function addListener(set, callback) {
  if (typeof callback !== 'function') throw new TypeError('callback must be a function');
  set.add(callback);
  return () => { set.delete(callback); };
}

/** Calls cb(context, previous) on every context change. Returns an unsubscribe function. */
export function subscribe(cb) { return addListener(subscribers, cb); }

/** Calls cb(user) when the user changes (for example after the host refreshed the token). */
export function onUserChange(cb) { return addListener(userListeners, cb); }

/** Calls cb(properties) when the host changes the properties. */
export function onPropertiesChange(cb) { return addListener(propertiesListeners, cb); }

/** Calls cb(colorScheme) when the host changes the colour scheme. */
export function onColorSchemeChange(cb) { return addListener(colorSchemeListeners, cb); }

/** Calls cb(route) when the app's route changes (after navigate()). */
export function onRouteChange(cb) { return addListener(routeListeners, cb); }

/**
 * Handles an event triggered by the host page (element.trigger(eventName, payload)).
 * handler(payload, eventName). Returns an unsubscribe function.
 */
export function on(eventName, handler) {
  if (typeof eventName !== 'string' || eventName === '') throw new TypeError('eventName must be a non-empty string');
  if (!eventHandlers.has(eventName)) eventHandlers.set(eventName, new Set());
  return addListener(eventHandlers.get(eventName), handler);
}

/* ------------------------------------------------------------------ talking to the host */

// The parent is always the Tessera embed page (a frame cannot change its parent), and its origin
// cannot be checked from an opaque origin's point of view without trusting our own URL, so the
// target is '*'. Nothing secret is ever sent: event names, payloads, paths and FETCH requests
// chosen by the app.
function post(message) {
  if (parent === window) return;   // not framed: nothing to talk to
  parent.postMessage(Object.assign({ tessera: 1 }, message), '*');
}

/** Sends an event to the host page (its onEvent(eventName, payload) callback). */
export function emit(eventName, payload = {}) {
  if (typeof eventName !== 'string' || eventName === '') throw new TypeError('eventName must be a non-empty string');
  post({ type: 'EMIT', eventName, payload });
}

/** Moves the app to another page, e.g. navigate('/orders?id=3'); the host gets NAVIGATION. */
export function navigate(path) {
  if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError('path must start with "/"');
  post({ type: 'NAVIGATE', path });
}

/* ------------------------------------------------------------------ integrations */

const FETCH_TIMEOUT_MS = 30 * 1000;
const FETCH_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
// The only request headers the embed page forwards; it refuses a request with any other.
const FETCH_HEADERS = ['accept', 'accept-language', 'content-type', 'if-match', 'if-none-match'];
const NULL_BODY_STATUSES = [101, 103, 204, 205, 304];

// Request ids: a random prefix per document and a counter, so a reply meant for an earlier
// document of this frame can never match a request of this one.
const fetchIdPrefix = (() => {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return 'f' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('') + '-';
})();
let fetchSeq = 0;
const pendingFetches = new Map();   // id -> {resolve, reject, cleanup}

function fetchError(code, message) {
  const error = new TypeError(message);
  error.code = code;
  return error;
}

function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// init.headers (a plain object or a Headers) as {lower-case name: value}; throws a TypeError.
function requestHeaders(headers) {
  const out = {};
  if (headers === undefined || headers === null) return out;
  let entries;
  if (typeof Headers !== 'undefined' && headers instanceof Headers) entries = [...headers.entries()];
  else if (isPlainObject(headers)) entries = Object.entries(headers);
  else throw fetchError('invalid_request', 'headers must be a plain object or a Headers');
  for (const [rawName, value] of entries) {
    const name = String(rawName).toLowerCase();
    if (!FETCH_HEADERS.includes(name)) {
      throw fetchError('invalid_request', `header "${rawName}" may not be sent; allowed: ${FETCH_HEADERS.join(', ')}`);
    }
    if (typeof value !== 'string') throw fetchError('invalid_request', `header "${rawName}" must be a string`);
    out[name] = value;
  }
  return out;
}

// init.body as a string (or null), adding a Content-Type for JSON and form bodies.
function requestBody(body, headers) {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body;
  if (typeof URLSearchParams !== 'undefined' && body instanceof URLSearchParams) {
    if (!headers['content-type']) headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
    return body.toString();
  }
  if (Array.isArray(body) || isPlainObject(body)) {
    if (!headers['content-type']) headers['content-type'] = 'application/json';
    return JSON.stringify(body);
  }
  throw fetchError('invalid_request', 'body must be a string, a plain object or array (sent as JSON) or URLSearchParams');
}

/**
 * Calls the host's backend API through the integration `integrationId` (a UUID an admin gives the
 * app, e.g. in the host's properties), as the signed-in user:
 *
 *   const res = await fetch(id, '/orders?status=open', {method: 'POST', body: {x: 1}});
 *   if (res.ok) render(await res.json());
 *
 * path: starts with "/", relative to the integration's base URL (no ".." segments).
 * init: {method: GET (default) | POST | PUT | PATCH | DELETE, headers: a plain object or Headers
 * with only Accept, Accept-Language, Content-Type, If-Match, If-None-Match; body: a string, or a
 * plain object/array sent as JSON (Content-Type application/json unless given), at most 64 KiB;
 * signal: an AbortSignal}. Resolves to a Response (the status, Content-Type and the few other
 * headers the embed page relays, and the body as text). Rejects with a
 * TypeError whose .code says why when no response could be had (no_session, invalid_request,
 * too_large, too_many_requests, network, timeout, not_embedded), or an AbortError.
 */
export function fetch(integrationId, path, init = {}) {
  return new Promise((resolve, reject) => {
    if (parent === window) throw fetchError('not_embedded', 'Tessera fetch: the app is not running inside a Tessera embed');
    if (typeof integrationId !== 'string' || integrationId === '') throw fetchError('invalid_request', 'integrationId must be a non-empty string');
    if (typeof path !== 'string' || !path.startsWith('/')) throw fetchError('invalid_request', 'path must be a string starting with "/"');
    const options = init || {};
    const method = String(options.method || 'GET').toUpperCase();
    if (!FETCH_METHODS.includes(method)) throw fetchError('invalid_request', `method must be one of ${FETCH_METHODS.join(', ')}`);
    const headers = requestHeaders(options.headers);
    const body = requestBody(options.body, headers);
    if (body !== null && method === 'GET') throw fetchError('invalid_request', 'a GET request cannot have a body');
    const signal = options.signal;
    if (signal && signal.aborted) throw new DOMException('The request was aborted.', 'AbortError');

    const id = fetchIdPrefix + (++fetchSeq);
    const onAbort = () => {
      cleanup();
      reject(new DOMException('The request was aborted.', 'AbortError'));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(fetchError('timeout', `Tessera fetch: no answer within ${FETCH_TIMEOUT_MS / 1000} s`));
    }, FETCH_TIMEOUT_MS);
    function cleanup() {
      clearTimeout(timer);
      pendingFetches.delete(id);
      if (signal) signal.removeEventListener('abort', onAbort);
    }
    if (signal) signal.addEventListener('abort', onAbort);
    pendingFetches.set(id, { resolve, reject, cleanup });
    post({ type: 'FETCH', id, integrationId, path, method, headers, body });
  });
}

function onFetchResult(message) {
  const pending = typeof message.id === 'string' ? pendingFetches.get(message.id) : undefined;
  if (!pending) return;   // timed out, aborted, or not ours
  pending.cleanup();
  const error = message.error;
  if (error && typeof error === 'object') {
    const code = typeof error.code === 'string' ? error.code : 'network';
    pending.reject(fetchError(code, 'Tessera fetch: ' + (typeof error.message === 'string' ? error.message : code)));
    return;
  }
  const r = message.response;
  if (!r || typeof r !== 'object' || !Number.isInteger(r.status) || r.status < 200 || r.status > 599) {
    pending.reject(fetchError('network', 'Tessera fetch: the embed page sent an invalid result'));
    return;
  }
  try {
    const headers = new Headers();
    if (r.headers && typeof r.headers === 'object') {
      for (const [name, value] of Object.entries(r.headers)) if (typeof value === 'string') headers.set(name, value);
    }
    const body = NULL_BODY_STATUSES.includes(r.status) || typeof r.body !== 'string' ? null : r.body;
    pending.resolve(new Response(body, { status: r.status, headers }));
  } catch (e) {
    pending.reject(fetchError('network', 'Tessera fetch: the embed page sent an invalid result'));
  }
}

/* ------------------------------------------------------------------ receiving */

function deepFreeze(value) {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze(value[key]);
  }
  return value;
}

function same(a, b) {
  if (a === b) return true;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch (e) {
    return false;
  }
}

function notify(set, ...args) {
  for (const cb of [...set]) {
    try {
      cb(...args);
    } catch (e) {
      console.error('Tessera app: a listener threw:', e);
    }
  }
}

function applyContext(message) {
  const previous = context;
  const next = deepFreeze({
    user: message.user || null,
    properties: message.properties && typeof message.properties === 'object' ? message.properties : {},
    colorScheme: message.colorScheme === 'light' || message.colorScheme === 'dark' ? message.colorScheme : null,
    route: {
      pathname: message.route && typeof message.route.pathname === 'string' ? message.route.pathname : '/',
      search: message.route && typeof message.route.search === 'string' ? message.route.search : '',
    },
  });
  // Unchanged parts keep their previous objects, so snapshots (getUser() etc.) stay stable.
  context = Object.freeze({
    user: previous && same(previous.user, next.user) ? previous.user : next.user,
    properties: previous && same(previous.properties, next.properties) ? previous.properties : next.properties,
    colorScheme: next.colorScheme,
    route: previous && same(previous.route, next.route) ? previous.route : next.route,
  });

  if (!previous) {
    resolveReady(context);
  } else {
    if (context.user !== previous.user) notify(userListeners, context.user);
    if (context.properties !== previous.properties) notify(propertiesListeners, context.properties);
    if (context.colorScheme !== previous.colorScheme) notify(colorSchemeListeners, context.colorScheme);
    if (context.route !== previous.route) notify(routeListeners, context.route);
  }
  notify(subscribers, context, previous);
}

function onTrigger(message) {
  if (typeof message.eventName !== 'string') return;
  const handlers = eventHandlers.get(message.eventName);
  if (handlers) notify(handlers, message.payload, message.eventName);
}

window.addEventListener('message', (event) => {
  // Security: only the embed page (our parent window) may send the context or trigger events.
  if (parent === window || event.source !== parent) return;
  const message = event.data;
  if (!message || typeof message !== 'object' || message.tessera !== 1) return;
  if (message.type === 'CONTEXT') applyContext(message);
  else if (message.type === 'TRIGGER') onTrigger(message);
  else if (message.type === 'FETCH_RESULT') onFetchResult(message);
});

/* ------------------------------------------------------------------ start */

const api = Object.freeze({
  ready, getUser, getProperties, getColorScheme, getRoute, getContext,
  subscribe, onUserChange, onPropertiesChange, onColorSchemeChange, onRouteChange,
  on, emit, navigate, fetch,
});
globalThis.TesseraApp = api;

post({ type: 'READY' });

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
 *
 * The app runs in a sandboxed frame with an opaque origin; its parent is the Tessera embed page,
 * which verifies the user and never hands the session token to the app. Importing this module
 * posts READY; the embed page answers with CONTEXT, and again whenever the context changes.
 * The module also sets globalThis.TesseraApp to its API (used by @tessera/embed-react hooks).
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
// target is '*'. Nothing secret is ever sent: event names, payloads and paths chosen by the app.
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
});

/* ------------------------------------------------------------------ start */

const api = Object.freeze({
  ready, getUser, getProperties, getColorScheme, getRoute, getContext,
  subscribe, onUserChange, onPropertiesChange, onColorSchemeChange, onRouteChange,
  on, emit, navigate,
});
globalThis.TesseraApp = api;

post({ type: 'READY' });

/*
 * @tessera/embed-react: React bindings for Tessera embeds. Plain JavaScript (no JSX), React >= 17.
 *
 * For host pages:  <SuperblocksEmbed src=".../embed/applications/<APP_ID>" token={token} ... />
 * For app authors: useSuperblocksUser(), useSuperblocksProperties(), createTesseraHooks(lib)
 *
 * The host side speaks the Superblocks embed protocol (docs/EMBED.md section 3) itself, with a
 * ref'd iframe; it does not need Tessera's /sdk/embed.js on the page. That protocol logic is a
 * small, deliberate duplicate of web/sdk/embed.js (a classic script served by Tessera, which this
 * npm package cannot import): keep the two in step.
 */
import {
  createElement,
  forwardRef,
  useCallback,
  useEffect,
  useImperativeHandle,
  useRef,
  useState,
} from 'react';

const INIT_RETRY_MS = 200;
const INIT_TIMEOUT_MS = 10000;
const FRAME_STYLE = { width: '100%', height: '100%', border: 'none' };

/* ------------------------------------------------------------------ helpers */

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// The embed URL with embed_id, and its origin (the only origin we post to or accept).
// Throws on a src that is not an embed URL, like the official SDK's validation.
function resolveEmbedUrl(src, embedId) {
  if (typeof src !== 'string' || src === '') throw new Error('SuperblocksEmbed: src is required');
  if (!/\/embed\/applications\//.test(src) || /\/embed\/applications\/edit\//.test(src)) {
    throw new Error('SuperblocksEmbed: src is not a valid Superblocks embed URL: it must contain /embed/applications/<APP_ID>');
  }
  const base = typeof document !== 'undefined' ? document.baseURI : undefined;
  const url = new URL(src, base);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('SuperblocksEmbed: src must be an http(s) URL');
  url.searchParams.set('embed_id', embedId);
  return { href: url.href, origin: url.origin };
}

// "height: 500px; border-radius: 4px" -> {height: '500px', borderRadius: '4px'}; objects pass through.
function toStyleObject(style) {
  if (isPlainObject(style)) return style;
  if (typeof style !== 'string') return {};
  const result = {};
  for (const declaration of style.split(';')) {
    const colon = declaration.indexOf(':');
    if (colon < 0) continue;
    const name = declaration.slice(0, colon).trim();
    const value = declaration.slice(colon + 1).trim();
    if (!name || !value) continue;
    const key = name.startsWith('--') ? name : name.toLowerCase().replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    result[key] = value;
  }
  return result;
}

function jsonKey(value) {
  try {
    return JSON.stringify(value === undefined ? {} : value);
  } catch (e) {
    return String(Math.random());   // not serializable: treat as changed
  }
}

function call(fn, ...args) {
  if (typeof fn !== 'function') return;
  try {
    fn(...args);
  } catch (e) {
    console.error('SuperblocksEmbed: a callback threw:', e);
  }
}

/* ------------------------------------------------------------------ host: <SuperblocksEmbed> */

/**
 * Embeds a Tessera (or Superblocks) app.
 *
 * Props: src, token, properties, colorScheme ('light' | 'dark'), style (CSS text or a style
 * object, applied to the iframe), id, className, title, and the callbacks onAppLoaded({id, name}),
 * onAuthError({error, code}), onNavigation({url, href, appId, pathname, search, queryParams}),
 * onEvent(eventName, payload), onSessionExpiring({expiresAt}).
 *
 * A new token sends TOKEN_CHANGE (no reload), new properties PROPERTY_CHANGE, a new colorScheme
 * COLOR_SCHEME_CHANGE; a new src reloads the frame. The ref exposes trigger(eventName, payload).
 */
export const SuperblocksEmbed = forwardRef(function SuperblocksEmbed(props, ref) {
  const { src, token, properties, colorScheme, style, id, className, title } = props;
  const frameRef = useRef(null);
  const latest = useRef(props);          // the newest props, for callbacks and INITIALIZE_EMBED
  latest.current = props;
  const embedId = useRef(String(Date.now())).current;
  const link = useRef({ loaded: false, initialized: false, timer: null });

  const target = resolveEmbedUrl(src, embedId);
  const origin = target.origin;

  const post = useCallback((type, data) => {
    const win = frameRef.current && frameRef.current.contentWindow;
    if (!win) return;
    win.postMessage({ type, data }, origin);   // never '*': only the embed page's origin
  }, [origin]);

  const stopInitialize = useCallback(() => {
    clearInterval(link.current.timer);
    link.current.timer = null;
  }, []);

  // INITIALIZE_EMBED on every load of the embed page, repeated until it answers INITIALIZED.
  const onLoad = useCallback(() => {
    stopInitialize();
    link.current.loaded = true;
    link.current.initialized = false;
    const started = Date.now();
    const attempt = () => {
      if (link.current.initialized) return;
      if (Date.now() - started > INIT_TIMEOUT_MS) {
        stopInitialize();
        console.error('SuperblocksEmbed: ' + origin + ' did not answer INITIALIZE_EMBED within 10 s. ' +
          'Is this page\'s origin one of the app\'s allowed origins?');
        return;
      }
      const p = latest.current;
      post('INITIALIZE_EMBED', {
        token: p.token || null,
        properties: isPlainObject(p.properties) ? p.properties : {},
        colorScheme: p.colorScheme === 'light' || p.colorScheme === 'dark' ? p.colorScheme : null,
      });
    };
    attempt();
    link.current.timer = setInterval(attempt, INIT_RETRY_MS);
  }, [origin, post, stopInitialize]);

  // Messages from the embed page: only from our own frame, only from the src origin.
  useEffect(() => {
    const onMessage = (event) => {
      const frame = frameRef.current;
      if (!frame || event.source !== frame.contentWindow || event.origin !== origin) return;
      const message = event.data;
      if (!isPlainObject(message) || typeof message.type !== 'string') return;
      const data = isPlainObject(message.data) ? message.data : {};
      const p = latest.current;
      switch (message.type) {
        case 'INITIALIZED':
          link.current.initialized = true;
          stopInitialize();
          break;
        case 'APP_LOADED': call(p.onAppLoaded, data); break;
        case 'NAVIGATION': call(p.onNavigation, data); break;
        case 'AUTH_ERROR': call(p.onAuthError, { error: data.error, code: data.code || 'invalid' }); break;
        case 'EMIT_EVENT':
          call(p.onEvent, data.eventName, data.payload);
          if (data.eventName === 'sessionExpiring') call(p.onSessionExpiring, isPlainObject(data.payload) ? data.payload : {});
          break;
        default: break;
      }
    };
    window.addEventListener('message', onMessage);
    return () => {
      window.removeEventListener('message', onMessage);
      stopInitialize();
      link.current.loaded = false;       // a new src means a new page to initialize
      link.current.initialized = false;
    };
  }, [origin, target.href, stopInitialize]);

  // Changes after the frame has loaded; before that, INITIALIZE_EMBED carries the newest values.
  const normalizedToken = token || null;
  useChange(normalizedToken, () => { if (link.current.loaded) post('TOKEN_CHANGE', { token: normalizedToken }); });

  const propertiesKey = jsonKey(properties);
  useChange(propertiesKey, () => {
    if (link.current.loaded) post('PROPERTY_CHANGE', { properties: isPlainObject(properties) ? properties : {} });
  });

  const scheme = colorScheme === 'light' || colorScheme === 'dark' ? colorScheme : null;
  useChange(scheme, () => { if (link.current.loaded) post('COLOR_SCHEME_CHANGE', { colorScheme: scheme }); });

  useImperativeHandle(ref, () => ({
    /** Sends an event to the app (its on(eventName, handler) handlers). */
    trigger(eventName, payload) { post('TRIGGER_EVENT', { eventName, payload }); },
    get iframe() { return frameRef.current; },
  }), [post]);

  return createElement('iframe', {
    ref: frameRef,
    id,
    className,
    title: title || 'Embedded app',
    src: target.href,
    allowFullScreen: true,
    style: Object.assign({}, FRAME_STYLE, toStyleObject(style)),
    onLoad,
  });
});

// Runs effect when value changes after the first render (not on mount).
function useChange(value, effect) {
  const previous = useRef(value);
  useEffect(() => {
    if (Object.is(previous.current, value)) return;
    previous.current = value;
    effect();
  });
}

/* ------------------------------------------------------------------ apps: hooks over /sdk/app.js */

let warnedMissing = false;

function globalLibrary() {
  const lib = globalThis.TesseraApp;
  if (!lib && !warnedMissing) {
    warnedMissing = true;
    console.warn('useSuperblocksUser: globalThis.TesseraApp is not set. Load Tessera\'s in-app library ' +
      'first (<script type="module" src="/sdk/app.js"></script>), or use createTesseraHooks(library).');
  }
  return lib || null;
}

// A value read from the library, re-read on every context change. The library keeps unchanged
// values as the same objects, so components re-render only when their value really changes.
function useLibraryValue(lib, read, fallback) {
  const [value, setValue] = useState(() => (lib ? read(lib) : fallback));
  useEffect(() => {
    if (!lib) return undefined;
    setValue(read(lib));
    return lib.subscribe(() => setValue(read(lib)));
  }, [lib]);   // eslint-disable-line react-hooks/exhaustive-deps
  return value;
}

const readUser = (lib) => lib.getUser();
const readProperties = (lib) => lib.getProperties();
const readColorScheme = (lib) => lib.getColorScheme();
const NO_PROPERTIES = Object.freeze({});

/**
 * Hooks bound to an in-app library module, for apps that import it themselves:
 *
 *   import * as tessera from '<tessera>/sdk/app.js';
 *   const { useSuperblocksUser, useSuperblocksProperties } = createTesseraHooks(tessera);
 *
 * Without an argument the hooks use globalThis.TesseraApp (set by /sdk/app.js).
 */
export function createTesseraHooks(appLibrary) {
  const getLibrary = () => appLibrary || globalLibrary();
  return {
    /** The signed-in user {id, email, name, groups, metadata, userType}, or null. */
    useSuperblocksUser: () => useLibraryValue(getLibrary(), readUser, null),
    /** The properties the host page passed to the embed ({} until known). */
    useSuperblocksProperties: () => useLibraryValue(getLibrary(), readProperties, NO_PROPERTIES),
    /** 'light', 'dark' or null. */
    useSuperblocksColorScheme: () => useLibraryValue(getLibrary(), readColorScheme, null),
  };
}

const globalHooks = createTesseraHooks();

/** The signed-in user, from globalThis.TesseraApp (/sdk/app.js); null when unknown. */
export const useSuperblocksUser = globalHooks.useSuperblocksUser;
/** The host's properties, from globalThis.TesseraApp (/sdk/app.js). */
export const useSuperblocksProperties = globalHooks.useSuperblocksProperties;
/** The host's colour scheme, from globalThis.TesseraApp (/sdk/app.js). */
export const useSuperblocksColorScheme = globalHooks.useSuperblocksColorScheme;

export default SuperblocksEmbed;

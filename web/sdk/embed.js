/*
 * Tessera host SDK, served at <tessera>/sdk/embed.js. A classic script: it defines
 * window.TesseraEmbed, and window.Superblocks unless another SDK already did.
 *
 *   const embed = Superblocks.createSuperblocksEmbed({
 *     src: 'https://sso.example.com/embed/applications/<APP_ID>',
 *     token, properties: {plan: 'pro'}, colorScheme: 'light',
 *     onAppLoaded({id, name}) {}, onAuthError({error, code}) {}, onNavigation(nav) {},
 *     onEvent(eventName, payload) {}, onSessionExpiring({expiresAt}) {},
 *   });
 *   document.body.appendChild(embed);
 *   embed.token = newToken;                  // TOKEN_CHANGE: no reload, app state kept
 *   embed.properties = {...};                // PROPERTY_CHANGE
 *   embed.colorScheme = 'dark';              // COLOR_SCHEME_CHANGE
 *   embed.trigger('refresh', {at: Date.now()});
 *
 * The same API as @superblocksteam/embed 1.2.0 (and a <superblocks-app> element, registered if no
 * other SDK registered one; <tessera-app> is always available), speaking the same protocol
 * (docs/EMBED.md section 3). Differences: messages go to the src origin only (never '*') and are
 * accepted only from this element's own frame; INITIALIZE_EMBED is retried every 200 ms until
 * INITIALIZED (10 s at most); onSessionExpiring; onAuthError receives {error, code}; a bad option
 * throws instead of rendering an error box.
 */
(function (global) {
  'use strict';

  const INIT_RETRY_MS = 200;
  const INIT_TIMEOUT_MS = 10000;
  const FRAME_STYLE = 'width: 100%; height: 100%; border: none;';
  const CALLBACKS = ['onAppLoaded', 'onNavigation', 'onAuthError', 'onEvent', 'onSessionExpiring'];

  /* ------------------------------------------------------------------ options */

  function resolveSrc(src) {
    if (src == null || src === '') throw new Error('src is required');
    if (typeof src !== 'string' || !/\/embed\/applications\//.test(src) || /\/embed\/applications\/edit\//.test(src)) {
      throw new Error('src is not a valid Superblocks embed URL: it must contain /embed/applications/<APP_ID>');
    }
    let url;
    try {
      url = new URL(src, document.baseURI);
    } catch (e) {
      throw new Error('src is not a valid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('src must be an http(s) URL');
    return url;
  }

  function isPlainObject(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  }

  function validateOptions(options) {
    if (!isPlainObject(options)) throw new Error('createSuperblocksEmbed needs an options object');
    resolveSrc(options.src);
    if (options.id !== undefined && typeof options.id !== 'string') throw new Error('id must be a string');
    if (options.token != null && typeof options.token !== 'string') throw new Error('token must be a string');
    if (options.properties !== undefined && !isPlainObject(options.properties)) throw new Error('properties must be an object');
    if (options.style !== undefined && typeof options.style !== 'string') throw new Error('style must be a string');
    for (const name of CALLBACKS) {
      if (options[name] !== undefined && typeof options[name] !== 'function') throw new Error(name + ' must be a function');
    }
    if (options.colorScheme !== undefined && options.colorScheme !== 'light' && options.colorScheme !== 'dark') {
      console.warn('colorScheme must be either "light" or "dark"');
    }
  }

  function parseProperties(text) {
    if (text == null || text === '') return {};
    try {
      const value = JSON.parse(text);
      return isPlainObject(value) ? value : {};
    } catch (e) {
      console.error('Tessera embed: the properties attribute is not a JSON object');
      return {};
    }
  }

  /* ------------------------------------------------------------------ the element */

  class TesseraAppElement extends HTMLElement {
    static get observedAttributes() {
      return ['src', 'token', 'properties', 'colorscheme', 'style'];
    }

    constructor() {
      super();
      this._frame = document.createElement('iframe');
      this._frame.setAttribute('allowfullscreen', 'true');
      this._frame.style.cssText = FRAME_STYLE;
      this._frame.addEventListener('load', () => this._startInitialize());
      this._embedId = String(Date.now());  // kept across src changes, like the official SDK
      this._origin = null;                 // origin of src: the only one we post to or hear from
      this._token = null;
      this._properties = {};
      this._colorScheme = null;
      this._loaded = false;                // the frame has loaded the embed page
      this._initialized = false;           // the embed page answered INITIALIZED
      this._initTimer = null;
      this._onMessage = this._onMessage.bind(this);
    }

    /* ---- properties (the official element's, plus onSessionExpiring) */

    get src() { return this.getAttribute('src') || ''; }
    set src(value) { this.setAttribute('src', value); }

    get token() { return this._token || ''; }
    set token(value) { this._setToken(value); }

    get properties() { return this._properties; }
    set properties(value) { this._setProperties(value); }

    get colorScheme() { return this._colorScheme; }
    set colorScheme(value) { this._setColorScheme(value); }

    /** Sends an event to the app (its on(eventName, handler) handlers). */
    trigger(eventName, payload) {
      this._post('TRIGGER_EVENT', { eventName, payload });
    }

    /* ---- lifecycle */

    connectedCallback() {
      // Values assigned before the element was upgraded are own properties hiding our setters.
      for (const name of ['token', 'properties', 'colorScheme']) {
        if (Object.prototype.hasOwnProperty.call(this, name)) {
          const value = this[name];
          delete this[name];
          this[name] = value;
        }
      }
      window.addEventListener('message', this._onMessage);
      this._loadSrc();
      if (this._frame.parentNode !== this) this.appendChild(this._frame);
    }

    disconnectedCallback() {
      window.removeEventListener('message', this._onMessage);
      this._stopInitialize();
      this._loaded = false;
      this._initialized = false;
    }

    attributeChangedCallback(name, oldValue, value) {
      if (oldValue === value) return;
      switch (name) {
        case 'src':
          if (this.isConnected) this._loadSrc();
          break;
        case 'token':
          if (value !== null) this._setToken(value);
          break;
        case 'properties':
          if (value !== null) this._setProperties(parseProperties(value));
          break;
        case 'colorscheme':
          this._setColorScheme(value);
          break;
        case 'style':
          // The style attribute (and el.style.x = ...) styles the frame, as in the official SDK:
          // it is added to the frame's style and removed from the element.
          if (value) {
            this._addFrameStyle(value);
            this.removeAttribute('style');
          }
          break;
        default:
          break;
      }
    }

    /* ---- state changes: sent once the frame has loaded; before that, INITIALIZE_EMBED carries them */

    _setToken(value) {
      const token = typeof value === 'string' && value !== '' ? value : null;
      if (token === this._token) return;
      this._token = token;
      if (this._loaded) this._post('TOKEN_CHANGE', { token });
    }

    _setProperties(value) {
      this._properties = isPlainObject(value) ? value : {};
      if (this._loaded) this._post('PROPERTY_CHANGE', { properties: this._properties });
    }

    _setColorScheme(value) {
      const scheme = value === 'light' || value === 'dark' ? value : null;
      if (scheme === this._colorScheme) return;
      this._colorScheme = scheme;
      if (this._loaded) this._post('COLOR_SCHEME_CHANGE', { colorScheme: scheme });
    }

    /* ---- the frame */

    // Through the CSSOM, which a host page's Content-Security-Policy allows (a style attribute
    // set from script needs style-src 'unsafe-inline').
    _addFrameStyle(cssText) {
      this._frame.style.cssText += ';' + cssText;
    }

    _loadSrc() {
      let url;
      try {
        url = resolveSrc(this.getAttribute('src'));
      } catch (e) {
        console.error('Tessera embed:', e.message);
        return;
      }
      url.searchParams.set('embed_id', this._embedId);
      if (this._frame.src === url.href) return;
      this._stopInitialize();
      this._loaded = false;
      this._initialized = false;
      this._origin = url.origin;
      this._frame.src = url.href;
    }

    // INITIALIZE_EMBED on every load of the embed page, repeated until it answers INITIALIZED.
    _startInitialize() {
      this._stopInitialize();
      if (!this._origin || !this.isConnected) return;
      this._loaded = true;
      this._initialized = false;
      const started = Date.now();
      const attempt = () => {
        if (this._initialized) return;
        if (Date.now() - started > INIT_TIMEOUT_MS) {
          this._stopInitialize();
          console.error('Tessera embed: ' + this._origin + ' did not answer INITIALIZE_EMBED within ' +
            INIT_TIMEOUT_MS / 1000 + ' s. Is this page\'s origin one of the app\'s allowed origins?');
          return;
        }
        this._post('INITIALIZE_EMBED', {
          token: this._token,
          properties: this._properties,
          colorScheme: this._colorScheme,
        });
      };
      attempt();
      this._initTimer = setInterval(attempt, INIT_RETRY_MS);
    }

    _stopInitialize() {
      clearInterval(this._initTimer);
      this._initTimer = null;
    }

    _post(type, data) {
      const win = this._frame.contentWindow;
      if (!win || !this._origin) return;
      try {
        win.postMessage({ type, data }, this._origin);   // never '*': only the embed page's origin
      } catch (e) {
        console.error('Tessera embed: could not send ' + type + ':', e.message);
      }
    }

    _onMessage(event) {
      // Security: only our own frame, and only while it shows a page of the src origin.
      if (event.source !== this._frame.contentWindow || event.origin !== this._origin) return;
      const message = event.data;
      if (!isPlainObject(message) || typeof message.type !== 'string') return;
      const data = isPlainObject(message.data) ? message.data : {};
      switch (message.type) {
        case 'INITIALIZED':
          this._initialized = true;
          this._stopInitialize();
          break;
        case 'APP_LOADED':
          this._call('onAppLoaded', data);
          break;
        case 'NAVIGATION':
          this._call('onNavigation', data);
          break;
        case 'AUTH_ERROR':
          this._call('onAuthError', { error: data.error, code: data.code || 'invalid' });
          break;
        case 'EMIT_EVENT':
          this._call('onEvent', data.eventName, data.payload);
          if (data.eventName === 'sessionExpiring') this._call('onSessionExpiring', isPlainObject(data.payload) ? data.payload : {});
          break;
        default:
          break;
      }
    }

    _call(name, ...args) {
      const fn = this[name];
      if (typeof fn !== 'function') return;
      try {
        fn.apply(this, args);
      } catch (e) {
        console.error('Tessera embed: ' + name + ' threw:', e);
      }
    }
  }

  /* ------------------------------------------------------------------ registration */

  // One constructor may be registered under one name only: each name gets its own subclass.
  class SuperblocksAppElement extends TesseraAppElement {}
  class TesseraNamedAppElement extends TesseraAppElement {}

  if (!customElements.get('superblocks-app')) customElements.define('superblocks-app', SuperblocksAppElement);
  if (!customElements.get('tessera-app')) customElements.define('tessera-app', TesseraNamedAppElement);

  // <superblocks-app> if it is ours; otherwise (another SDK registered it) <tessera-app>.
  function elementName() {
    const defined = customElements.get('superblocks-app');
    return defined && defined.prototype instanceof TesseraAppElement ? 'superblocks-app' : 'tessera-app';
  }

  /**
   * Creates the embed element; append it to the page to load the app. Throws on invalid options
   * (src must be a URL containing /embed/applications/<APP_ID>).
   */
  function createSuperblocksEmbed(options) {
    validateOptions(options);
    const element = document.createElement(elementName());
    if (options.id !== undefined) element.id = options.id;
    if (options.style !== undefined) element._addFrameStyle(options.style);
    if (options.token != null) element.token = options.token;
    if (options.properties !== undefined) element.properties = options.properties;
    if (options.colorScheme !== undefined) element.colorScheme = options.colorScheme;
    for (const name of CALLBACKS) element[name] = options[name];
    element.src = options.src;
    return element;
  }

  const api = Object.freeze({ createSuperblocksEmbed, TesseraAppElement, version: '1.0.0' });
  global.TesseraEmbed = api;
  if (!global.Superblocks) global.Superblocks = { createSuperblocksEmbed };
})(window);

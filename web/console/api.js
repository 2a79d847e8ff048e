// Talks to Tessera's admin API (docs/API.md, "Admin API and console sign-in").
//
// The console session is the HttpOnly cookie `tessera_console`; the CSRF token that goes with it
// lives only in this module's memory (never in storage). After a reload it is re-obtained from
// GET /api/v1/auth/session. Every POST/PUT/PATCH/DELETE carries it as X-CSRF-Token.

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken = null;
let orgId = null;
let unauthorizedHandler = null;

export function setSession(data) {
  csrfToken = data ? data.csrf_token || null : null;
  orgId = data && data.org ? data.org.id : data && data.user ? data.user.org_id : null;
}

// Called when an API call made with the session answers 401: the session has ended.
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

export class ApiError extends Error {
  constructor(status, code, description, extra = {}) {
    super(description || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
    this.description = description || '';
    this.retryAfter = extra.retryAfter ?? null;
  }
}

// A sentence for the user: the server's description when it gave one.
export function errorMessage(err) {
  if (!(err instanceof ApiError)) return (err && err.message) || 'Something went wrong.';
  if (err.status === 0) return err.description;
  if (err.status === 403 && !err.description) return 'Your role does not allow this.';
  if (err.status === 404 && !err.description) return 'Not found: it may have been deleted.';
  if (err.status >= 500 && !err.description) return 'The server could not do this right now. Try again.';
  return err.description ? sentence(err.description) : `The server answered ${err.status}.`;
}

function sentence(s) {
  const t = String(s).trim();
  if (!t) return t;
  const first = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

async function send(method, path, body, opts) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: opts.signal,
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'Could not reach the Tessera server. Check the connection and try again.');
  }
  return res;
}

async function readError(res) {
  let code = '';
  let description = '';
  try {
    const j = await res.json();
    code = j.error || '';
    description = j.error_description || '';
  } catch (_) { /* not JSON */ }
  const ra = res.headers.get('Retry-After');
  const retryAfter = ra !== null && /^\d+$/.test(ra.trim()) ? Number(ra.trim()) : null;
  return new ApiError(res.status, code, description, { retryAfter });
}

// api('GET', '/api/v1/...') → the reply's `data`. opts.auth === false: a 401 is the caller's
// business (sign-in), not "session ended". opts.raw: return the Response (downloads).
export async function api(method, path, body, opts = {}) {
  let res = await send(method, path, body, opts);
  if (res.status === 403 && UNSAFE.has(method) && opts.auth !== false) {
    // The CSRF token may be stale (signed in again in another tab): fetch it once and retry.
    const err = await readError(res.clone());
    if (/csrf/i.test(err.description) && (await refreshCsrf())) res = await send(method, path, body, opts);
  }
  if (!res.ok) {
    const err = await readError(res);
    if (res.status === 401 && opts.auth !== false && unauthorizedHandler) unauthorizedHandler(err);
    throw err;
  }
  if (opts.raw) return res;
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    const j = JSON.parse(text);
    return j && typeof j === 'object' && 'data' in j ? j.data : j;
  } catch (_) {
    throw new ApiError(res.status, 'bad_reply', 'The server sent a reply the console could not read.');
  }
}

async function refreshCsrf() {
  try {
    const res = await send('GET', '/api/v1/auth/session', undefined, {});
    if (!res.ok) return false;
    const j = await res.json();
    if (j && j.data && j.data.csrf_token) {
      csrfToken = j.data.csrf_token;
      return true;
    }
  } catch (_) { /* ignore */ }
  return false;
}

// Paths under /api/v1/organizations/{orgId}.
export function org(path = '') {
  return `/api/v1/organizations/${encodeURIComponent(orgId || '')}${path}`;
}

export const get = (path, opts) => api('GET', org(path), undefined, opts);
export const post = (path, body = {}) => api('POST', org(path), body);
export const put = (path, body) => api('PUT', org(path), body);
export const patch = (path, body) => api('PATCH', org(path), body);
export const del = (path) => api('DELETE', org(path));
export const seg = (s) => encodeURIComponent(String(s));

// Session endpoints.
export const auth = {
  session: () => api('GET', '/api/v1/auth/session', undefined, { auth: false }),
  login: (email, password) => api('POST', '/api/v1/auth/login', { email, password }, { auth: false }),
  logout: () => api('POST', '/api/v1/auth/logout', {}, { auth: false }),
};

// The server's API. The access token lives in memory only; the refresh token is the server's
// httpOnly cookie, so a reload (or an expired token) signs in again silently through
// `POST /api/auth/refresh`. Every error becomes an `ApiError` with the server's message.

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

const session = { token: null, user: null };
const listeners = new Set();

export const url = (path) => new URL(path, document.baseURI).toString();

/** The signed-in user, or null. */
export const currentUser = () => session.user;
export const accessToken = () => session.token;

/** `f(user)` runs whenever the session starts or ends (user null). */
export function onSession(f) {
  listeners.add(f);
  return () => listeners.delete(f);
}

export function setSession(token, user) {
  const before = session.user?.id ?? null;
  session.token = token || null;
  session.user = token ? user : null;
  // `/api/config` tells a signed-in user more than a visitor: ask again when that changes.
  if ((session.user?.id ?? null) !== before) configCache = null;
  for (const f of listeners) f(session.user);
}

let refreshing = null;

/** Renews the access token from the refresh cookie; false when there is no session. */
export function refresh() {
  refreshing ??= (async () => {
    try {
      const res = await fetch(url('api/auth/refresh'), { method: 'POST', credentials: 'same-origin' });
      // Without a session the server answers 200 with a plain-text note, as LibreChat does.
      const body = res.ok ? await res.json().catch(() => null) : null;
      if (!body?.token) {
        setSession(null);
        return false;
      }
      setSession(body.token, body.user);
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** The person-readable message of an error answer (`{message}` or text). */
export function messageOf(status, body) {
  if (body && typeof body === 'object') {
    const m = body.message || body.error?.message || body.error;
    if (typeof m === 'string' && m) return m;
  }
  if (typeof body === 'string' && body && body.length < 300) return body;
  if (status === 429) return 'Too many requests. Please wait a moment and try again.';
  return `The server answered ${status}.`;
}

/**
 * `request('POST', 'api/convos/update', {arg: ...})`. A FormData body is sent as multipart.
 * A 401 renews the token once and tries again. Returns the parsed JSON (or text).
 */
export async function request(method, path, body, { signal, retry = true, raw = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(url(path), { method, headers, body: payload, signal, credentials: 'same-origin' });
  if (res.status === 401 && retry && !path.startsWith('api/auth/')) {
    if (await refresh()) return request(method, path, body, { signal, retry: false, raw });
  }
  if (raw) return res;
  const text = await res.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Plain text answers stay text.
  }
  if (!res.ok) throw new ApiError(res.status, messageOf(res.status, parsed), parsed);
  return parsed;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body ?? {}, opts);
export const put = (path, body, opts) => request('PUT', path, body ?? {}, opts);
export const del = (path, body, opts) => request('DELETE', path, body, opts);

/** Query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

let configCache = null;
/** `GET /api/config`, once. */
export function config() {
  configCache ??= get('api/config').catch((e) => {
    configCache = null;
    throw e;
  });
  return configCache;
}

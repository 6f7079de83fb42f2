// Client-side routing with the History API, relative to the page's <base href> (the app may
// live under a sub-path). Links marked `data-link` navigate without reloading.

const routes = [];
let notFound = () => {};

/** `route('c/:id', ({id}, query) => ...)`. The first matching pattern wins. */
export function route(pattern, handler) {
  const parts = pattern.split('/').filter(Boolean);
  routes.push({ parts, handler });
}

export function fallback(handler) {
  notFound = handler;
}

const basePath = () => new URL(document.baseURI).pathname;

/** The app path without the base: `c/123`. */
export function currentPath() {
  const base = basePath();
  const p = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : location.pathname;
  return p.replace(/^\/+/, '');
}

export function href(path) {
  return basePath() + path.replace(/^\/+/, '');
}

export function navigate(path, { replace = false } = {}) {
  const target = href(path);
  if (target === location.pathname + location.search && !replace) return dispatch();
  if (replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  return dispatch();
}

export function dispatch() {
  const segments = currentPath().split('/').filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(location.search));
  for (const { parts, handler } of routes) {
    if (parts.length !== segments.length) continue;
    const found = {};
    const ok = parts.every((p, i) => {
      if (p.startsWith(':')) {
        found[p.slice(1)] = segments[i];
        return true;
      }
      return p === segments[i];
    });
    if (ok) return handler(found, params);
  }
  return notFound(params);
}

export function start() {
  window.addEventListener('popstate', dispatch);
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[data-link]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    navigate(a.getAttribute('href').replace(basePath(), ''));
  });
  return dispatch();
}

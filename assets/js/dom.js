// Building the page. `h` makes elements from data and escapes by default: strings become text
// nodes, never markup. The one way to insert markup is `serverHtml`, reserved for HTML the
// server has sanitized (rendered messages).

/** `h('button', {class: 'x', onclick: f, 'aria-label': 'Send'}, 'text', child, [more])` */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'value' || key === 'checked' || key === 'selected') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Sets markup the server produced and sanitized (`POST /api/render`). Nothing else. */
export function serverHtml(el, sanitized) {
  el.innerHTML = sanitized;
  return el;
}

/** An inline SVG icon from a path list (24×24 stroke icons). */
export function icon(...paths) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'icon');
  for (const d of paths) {
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', d);
    svg.appendChild(p);
  }
  return svg;
}

export const icons = {
  plus: ['M12 5v14', 'M5 12h14'],
  menu: ['M4 6h16', 'M4 12h16', 'M4 18h16'],
  send: ['M5 12h14', 'M13 6l6 6-6 6'],
  stop: ['M7 7h10v10H7z'],
  copy: ['M9 9h10v10H9z', 'M5 15V5h10'],
  edit: ['M4 20h4L19 9l-4-4L4 16z'],
  retry: ['M4 4v6h6', 'M20 12a8 8 0 1 1-2.3-5.7L20 8'],
  more: ['M5 12h.01', 'M12 12h.01', 'M19 12h.01'],
  left: ['M15 6l-6 6 6 6'],
  right: ['M9 6l6 6-6 6'],
  gear: ['M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6z', 'M12 2v3', 'M12 19v3', 'M2 12h3', 'M19 12h3'],
  search: ['M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14z', 'M21 21l-5-5'],
  up: ['M7 10l5-5 5 5', 'M12 5v14'],
  down: ['M7 14l5 5 5-5', 'M12 19V5'],
  fork: ['M6 3v6a6 6 0 0 0 6 6h0a6 6 0 0 0 6-6V3', 'M12 15v6'],
  thumbUp: ['M7 11v9H4v-9z', 'M7 11l4-8a2 2 0 0 1 3 2l-1 5h6a2 2 0 0 1 2 2l-2 7a2 2 0 0 1-2 1H7'],
  thumbDown: ['M7 13V4H4v9z', 'M7 13l4 8a2 2 0 0 0 3-2l-1-5h6a2 2 0 0 0 2-2l-2-7a2 2 0 0 0-2-1H7'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  play: ['M8 5l11 7-11 7z'],
  clip: ['M16 7v9.5a4.5 4.5 0 0 1-9 0V6a3 3 0 0 1 6 0v10a1.5 1.5 0 0 1-3 0V7'],
  file: ['M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z', 'M14 3v5h5'],
  download: ['M12 4v11', 'M7 10l5 5 5-5', 'M5 20h14'],
  prompts: ['M4 6h16', 'M4 12h10', 'M4 18h7', 'M17 14l-3 6'],
  agents: ['M6 8h12v11H6z', 'M12 4v4', 'M9.5 13h.01', 'M14.5 13h.01', 'M10 16h4'],
};

/** An icon-only button with an accessible name. */
export function iconButton(name, label, onclick, extra = {}) {
  return h('button', { type: 'button', class: 'icon-btn', 'aria-label': label, title: label, onclick, ...extra },
    icon(...icons[name]));
}

/** Calls `f` at most once every `ms`, always with the latest arguments, and once more at the end. */
export function throttle(f, ms) {
  let timer = null;
  let last = 0;
  let args = null;
  const run = () => {
    timer = null;
    last = Date.now();
    f(...args);
  };
  const throttled = (...a) => {
    args = a;
    if (timer) return;
    timer = setTimeout(run, Math.max(0, ms - (Date.now() - last)));
  };
  throttled.flush = () => {
    if (timer) {
      clearTimeout(timer);
      run();
    }
  };
  return throttled;
}

/** A short-lived message at the bottom of the screen. */
export function toast(text, kind = 'info') {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(box);
  }
  const t = h('div', { class: `toast ${kind}` }, text);
  box.appendChild(t);
  setTimeout(() => t.remove(), 5000);
}

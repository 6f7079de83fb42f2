// Markdown to HTML through the server's sanitizing renderer (`POST /api/render`). Requests made
// in the same moment are batched into one; results are cached by text.

import { post } from './api.js';
import { h, serverHtml, toast } from './dom.js';

const cache = new Map();
const CACHE_MAX = 2000;
let queue = [];
let scheduled = false;

function flush() {
  scheduled = false;
  const batch = queue.splice(0, 200);
  if (queue.length) schedule();
  if (!batch.length) return;
  post('api/render', { texts: batch.map((b) => b.text) })
    .then(({ html }) => {
      batch.forEach((b, i) => {
        remember(b.text, html[i]);
        b.resolve(html[i]);
      });
    })
    .catch((e) => batch.forEach((b) => b.reject(e)));
}

function schedule() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(flush);
}

function remember(text, html) {
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value);
  cache.set(text, html);
}

/** The sanitized HTML for `text`. */
export function renderMarkdown(text) {
  if (!text) return Promise.resolve('');
  if (cache.has(text)) return Promise.resolve(cache.get(text));
  return new Promise((resolve, reject) => {
    queue.push({ text, resolve, reject });
    schedule();
  });
}

/** Gives each code block of rendered HTML a copy button. */
export function decorate(el) {
  for (const pre of el.querySelectorAll('pre')) {
    const code = pre.querySelector('code') || pre;
    const lang = [...code.classList].find((c) => c.startsWith('language-'))?.slice(9);
    pre.before(h('div', { class: 'code-head' },
      h('span', {}, lang || 'code'),
      h('button', {
        type: 'button', class: 'small copy-code', 'aria-label': 'Copy code',
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(code.textContent);
            toast('Code copied');
          } catch {
            toast('Copying is not allowed here', 'error');
          }
        },
      }, 'Copy code')));
  }
  return el;
}

/**
 * Shows `text` in `el` as rendered markdown. Until the HTML arrives the plain text shows; a
 * newer call on the same element wins over an older one that answers late. `after(el)` runs
 * on what is shown each time (citations).
 */
export async function showMarkdown(el, text, after = (x) => x) {
  const ticket = (el._renderTicket = (el._renderTicket || 0) + 1);
  if (cache.has(text)) {
    after(decorate(serverHtml(el, cache.get(text))));
    return;
  }
  if (!el.firstChild) after(Object.assign(el, { textContent: text }));
  try {
    const html = await renderMarkdown(text);
    if (el._renderTicket === ticket) after(decorate(serverHtml(el, html)));
  } catch {
    if (el._renderTicket === ticket) after(Object.assign(el, { textContent: text }));
  }
}

// Artifacts in answers: a `:::artifact{identifier type title}` block shows as a card; opening it
// shows the artifact in a panel beside the chat, as a preview or as its code, which can be
// copied and edited (`POST /api/messages/artifact/:messageId`); on a shared page, only copied.
//
// The blocks are found exactly as the server finds them (src/chat/artifacts), so the index sent
// with an edit names the same artifact there. Web pages and SVG run in a frame that is
// sandboxed twice over: `<iframe sandbox="allow-scripts">` on a page of the server's with a
// policy of its own (`artifact-sandbox.html`, see src/web/sandbox.rs), which puts the artifact
// in a `srcdoc` frame, sandboxed too. Its origin is opaque: it runs its own scripts but reaches
// neither the app's cookies, storage and page nor its API. React components and Mermaid
// diagrams are drawn in the same frame by libraries that page loads (the server's
// `ARTIFACT_LIBRARIES_URL`, each file checked by its hash).

import { post } from './api.js';
import { h, icon, iconButton, mount, serverHtml, toast } from './dom.js';
import { decorate, renderMarkdown } from './render.js';

const START = ':::artifact';
const END = ':::';

const lineEnd = (t, at) => {
  const i = t.indexOf('\n', at);
  return i === -1 ? t.length : i;
};
const nextLine = (t, end) => Math.min(end + 1, t.length);
const isSpace = (c) => /\s/.test(c);

/** `[start, end]` of each line of `t` from `from` (a line start) up to `to`. */
function* lines(t, from, to) {
  let at = from;
  while (at < to) {
    const end = lineEnd(t, at);
    yield [at, end];
    at = nextLine(t, end);
  }
}

/** A closing `:::` on the line `s..e`, as `[at, end]`; a line opening an artifact closes none. */
function closingMarker(t, s, e) {
  let at = s;
  while (at < e && isSpace(t[at])) at++;
  if (at === e) return null;
  return t.startsWith(END, at) && !t.startsWith(START, at) ? [at, at + END.length] : null;
}

/** The fence a line opens: `{marker, len}` for three or more backticks or tildes. */
function fence(line) {
  const m = /^(`{3,}|~{3,})/.exec(line.trimStart());
  return m ? { marker: m[1][0], len: m[1].length } : null;
}

/** The fence `line` is nothing but (trimmed): what it can close. */
function bareFence(line) {
  const t = line.trim();
  const f = fence(t);
  return f && f.len === t.length ? f : null;
}

/** Whether `line` closes `open`: nothing but at least as many of the same marker. */
function closes(line, open) {
  const f = bareFence(line);
  return !!f && f.marker === open.marker && f.len >= open.len;
}

/** The first index of sorted `list` whose key is at or after `at`. */
function firstFrom(list, at, key = (x) => x) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(list[mid]) < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The lines of `t` that decide where its artifacts close, listed in one pass (see the server's
 * src/chat/artifacts/scan.rs): without them, a long answer with many fences that never close
 * would be read to its end once per artifact.
 */
function scan(t) {
  const markers = [];
  const bare = { '`': { at: [], longest: [] }, '~': { at: [], longest: [] } };
  for (const [s, e] of lines(t, 0, t.length)) {
    const m = closingMarker(t, s, e);
    const f = m ? null : bareFence(t.slice(s, e));
    if (m) markers.push(m);
    else if (f) {
      bare[f.marker].at.push(s);
      bare[f.marker].longest.push(f.len);
    }
  }
  for (const { longest } of Object.values(bare)) {
    for (let i = longest.length - 2; i >= 0; i--) longest[i] = Math.max(longest[i], longest[i + 1]);
  }
  return { t, markers, bare };
}

/** The closing marker of the artifact opened at `start` (see the server's `Scan::close`). */
function close(sc, start) {
  const { t } = sc;
  const it = lines(t, nextLine(t, lineEnd(t, start)), t.length);
  for (let r = it.next(); !r.done; r = it.next()) {
    const [s, e] = r.value;
    const marker = closingMarker(t, s, e);
    if (marker) return marker;
    const open = fence(t.slice(s, e));
    if (!open) continue;
    const after = nextLine(t, e);
    const b = sc.bare[open.marker];
    if (!(b.longest[firstFrom(b.at, after)] >= open.len)) return sc.markers[firstFrom(sc.markers, after, (m) => m[0])] ?? null;
    // Inside the fence up to the line that closes it (there is one).
    for (r = it.next(); !r.done && !closes(t.slice(r.value[0], r.value[1]), open); r = it.next());
  }
  return null;
}

/** `[start, end]` of the artifact's content in `a` (its whole text): the fenced code, or all. */
function contentRange(a) {
  const openingEnd = lineEnd(a, 0);
  if (openingEnd >= a.length) return null;
  const start = nextLine(a, openingEnd);
  const end = Math.max(close(scan(a), 0)?.[0] ?? a.length, start);
  const first = a.slice(start, end).search(/\S/);
  if (first === -1) return [start, end];
  const fenceAt = start + first;
  const fenceEnd = lineEnd(a, fenceAt);
  const open = fence(a.slice(fenceAt, fenceEnd));
  if (!open) return [start, end];
  const code = nextLine(a, fenceEnd);
  let closing = null;
  for (const [s, e] of lines(a, code, end)) {
    if (closes(a.slice(s, e), open)) {
      closing = [s, e];
      break;
    }
  }
  if (!closing) return [code, Math.max(end, code)];
  if (a.slice(closing[1], Math.max(end, closing[1])).trim()) return [start, end];
  const codeEnd = a[closing[0] - 1] === '\n' ? closing[0] - 1 : closing[0];
  return [code, Math.max(codeEnd, code)];
}

/** The artifacts of `text` as `[start, end]`, in order (as the server counts them). */
function findIn(text) {
  const sc = scan(text);
  const found = [];
  let from = 0;
  for (let start = text.indexOf(START, from); start !== -1; start = text.indexOf(START, from)) {
    const end = close(sc, start)?.[1] ?? text.length;
    found.push([start, end]);
    from = Math.max(end, start + START.length);
  }
  return found;
}

/** The attributes of an opening line: `{identifier, type, title, ...}`. */
function attributes(line) {
  const braces = /\{(.*)\}/.exec(line)?.[1] || '';
  const attrs = {};
  for (const m of braces.matchAll(/([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s}]+))/g)) {
    attrs[m[1]] = m[2] ?? m[3] ?? m[4];
  }
  return attrs;
}

/**
 * `text` cut into `{kind: 'text', text}` and `{kind: 'artifact', index, identifier, type,
 * title, content}` pieces. An artifact marker in the middle of a line is counted (the server
 * counts it) but stays text, as LibreChat's client shows it.
 */
export function segments(text) {
  const out = [];
  let from = 0;
  const addText = (s) => {
    if (!s) return;
    if (out.at(-1)?.kind === 'text') out.at(-1).text += s;
    else out.push({ kind: 'text', text: s });
  };
  findIn(text).forEach(([start, end], index) => {
    const lineStart = text.lastIndexOf('\n', start - 1) + 1;
    if (text.slice(lineStart, start).trim()) return;
    addText(text.slice(from, start));
    const whole = text.slice(start, end);
    const range = contentRange(whole);
    const attrs = attributes(whole.slice(0, lineEnd(whole, 0)));
    out.push({
      kind: 'artifact',
      index,
      identifier: attrs.identifier || '',
      type: attrs.type || 'text/plain',
      title: attrs.title || 'Untitled',
      content: range ? whole.slice(range[0], range[1]) : '',
    });
    from = end;
  });
  addText(text.slice(from));
  return out;
}

const KINDS = {
  'text/html': 'Web page',
  'image/svg+xml': 'SVG image',
  'application/vnd.mermaid': 'Mermaid diagram',
  'application/vnd.react': 'React component',
  'text/markdown': 'Document',
  'text/md': 'Document',
};
const kind = (type) => KINDS[type] || type;
/** What the sandbox page is sent to show artifact `a`, or null when it has no preview there. */
function framing(a) {
  switch (a.type) {
    case 'text/html': return { html: a.content };
    case 'image/svg+xml': return { html: svgPage(a.content) };
    case 'application/vnd.react': return { react: a.content };
    case 'application/vnd.mermaid': return { mermaid: a.content };
    default: return null;
  }
}
const framed = (type) => ['text/html', 'image/svg+xml', 'application/vnd.react', 'application/vnd.mermaid'].includes(type);
const markdown = (type) => type === 'text/markdown' || type === 'text/md';

/** The card standing for artifact `a` in an answer. */
export function artifactCard(a, onOpen) {
  return h('button', { type: 'button', class: 'artifact-card', 'aria-label': `Open artifact: ${a.title}`, onclick: () => onOpen(a) },
    h('span', { class: 'artifact-card-icon' }, icon('M8 9l-4 3 4 3', 'M16 9l4 3-4 3', 'M13 6l-2 12')),
    h('span', { class: 'artifact-card-text' },
      h('span', { class: 'artifact-card-title' }, a.title),
      h('span', { class: 'muted' }, kind(a.type))));
}

/** An SVG as a page that centres it. */
const svgPage = (svg) => `<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;height:100%;display:grid;place-items:center}svg{max-width:100%;max-height:100vh}</style></head><body>${svg}</body></html>`;

let active = null;

/**
 * Opens artifact `a` in the view's panel. `options`: `{messageId, editable, onSaved(message)}`
 * in a chat (`onSaved` after an edit), `{readOnly: true}` on a shared page (no edit control).
 */
export function openArtifact(a, options) {
  active?.open(a, options);
}

/**
 * A view's artifact panel, a chat's or a shared page's (one per view; the newest is the one
 * `openArtifact` uses).
 */
export function artifactPanel() {
  const name = h('h2', { class: 'artifact-name' });
  const previewBtn = h('button', { type: 'button', class: 'chip', 'aria-pressed': 'true' }, 'Preview');
  const codeBtn = h('button', { type: 'button', class: 'chip', 'aria-pressed': 'false' }, 'Code');
  const body = h('div', { class: 'artifact-body' });
  const el = h('aside', { class: 'artifact-panel', hidden: true },
    h('div', { class: 'artifact-head' }, name,
      h('div', { class: 'artifact-views', role: 'group', 'aria-label': 'View' }, previewBtn, codeBtn),
      iconButton('copy', 'Copy artifact', copy),
      iconButton('close', 'Close artifact', () => hide())),
    body);
  let current = null;
  let opts = {};

  function hide() {
    el.hidden = true;
    mount(body);
    current = null;
  }

  async function copy() {
    try {
      await navigator.clipboard.writeText(current?.content ?? '');
      toast('Artifact copied');
    } catch {
      toast('Copying is not allowed here', 'error');
    }
  }

  function show(v) {
    previewBtn.setAttribute('aria-pressed', String(v === 'preview'));
    codeBtn.setAttribute('aria-pressed', String(v === 'code'));
    mount(body, v === 'preview' ? preview(current) : code(current));
  }

  function preview(a) {
    if (framed(a.type)) {
      const frame = h('iframe', { class: 'artifact-frame', sandbox: 'allow-scripts', title: `Preview: ${a.title}`, src: 'artifact-sandbox.html' });
      const shown = framing(a);
      frame.addEventListener('load', () => frame.contentWindow?.postMessage(shown, '*'), { once: true });
      return frame;
    }
    if (markdown(a.type)) {
      const doc = h('div', { class: 'markdown artifact-doc' }, a.content);
      // On a shared page the server sent it rendered (`a.html`).
      if (a.html) decorate(serverHtml(doc, a.html));
      else renderMarkdown(a.content).then((html) => decorate(serverHtml(doc, html))).catch(() => {});
      return doc;
    }
    return h('p', { class: 'artifact-note' }, `A ${kind(a.type)} has no preview. Its code is under "Code".`);
  }

  function code(a) {
    const source = h('pre', { class: 'artifact-code' }, h('code', {}, a.content));
    if (opts.readOnly) return h('div', { class: 'artifact-code-view' }, source);
    const edit = h('button', { type: 'button', class: 'chip', disabled: !opts.editable }, 'Edit');
    edit.addEventListener('click', () => editing(a));
    return h('div', { class: 'artifact-code-view' }, h('div', { class: 'artifact-tools' }, edit), source);
  }

  function editing(a) {
    const area = h('textarea', { class: 'artifact-edit', 'aria-label': 'Artifact code', spellcheck: 'false' });
    area.value = a.content;
    const save = h('button', { type: 'button', class: 'primary' }, 'Save');
    const cancel = h('button', { type: 'button', onclick: () => show('code') }, 'Cancel');
    save.addEventListener('click', async () => {
      save.disabled = true;
      try {
        const saved = await post(`api/messages/artifact/${encodeURIComponent(opts.messageId)}`,
          { index: a.index, original: a.content, updated: area.value });
        opts.onSaved?.(saved);
        const again = segments(saved.text || '').find((s) => s.kind === 'artifact' && s.index === a.index);
        current = again || { ...a, content: area.value };
        toast('Artifact saved');
        show('preview');
      } catch (e) {
        toast(e.message, 'error');
        save.disabled = false;
      }
    });
    mount(body, h('div', { class: 'artifact-editor' }, area, h('div', { class: 'edit-buttons' }, save, cancel)));
    area.focus();
  }

  previewBtn.addEventListener('click', () => current && show('preview'));
  codeBtn.addEventListener('click', () => current && show('code'));
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !e.target.closest('.artifact-editor')) hide();
  });

  const panel = {
    el,
    open(a, options = {}) {
      current = a;
      opts = options;
      name.textContent = a.title;
      el.setAttribute('aria-label', `Artifact: ${a.title}`);
      el.hidden = false;
      show(framed(a.type) || markdown(a.type) ? 'preview' : 'code');
    },
    close: hide,
  };
  active = panel;
  return panel;
}

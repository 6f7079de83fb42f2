// An answer's sources and citations, as LibreChat's client shows them: the `web_search` and
// `file_search` attachments of the answer (live from the stream, saved with it) listed under
// it, numbered, and each anchor the model wrote in the text (`\ue202turn0search1`, the six
// characters or the one private-use character) turned into that number, linking to its source.
// An anchor that names no source, and the group and highlight marks (\ue200 \ue201 \ue203
// \ue204), are taken out of the text. Titles, snippets and links come from web pages and
// documents: they are only ever text here, and links only http(s).

import { currentUser } from './api.js';
import { h, toast } from './dom.js';
import { saveFile } from './uploads.js';

const ANCHOR = /(?:\\ue202|\ue202)turn(\d+)(search|news|image|ref|file)(\d+)/g;
const MARK = /\\ue20[0-4]|[\ue200-\ue204]/g;
/** The attachment's list each anchor kind points into (LibreChat's `SearchResultData`). */
const LISTS = { search: 'organic', news: 'topStories', image: 'images', ref: 'references' };

/** The end of a text that may be an anchor still being written (`\ue20`, `\ue202tur`, ...). */
const UNFINISHED = /(?:\\(?:u(?:e(?:2(?:0\d?)?)?)?)?|[\ue200-\ue204])(?:turn\d*(?:[a-z]+\d*)?|tu?r?)?$/;

/** `t` without an anchor being written at its end: held back while an answer streams. */
export const settled = (t) => t.replace(UNFINISHED, '');

const text = (v) => (typeof v === 'string' ? v : '');

/** `link` when it is an http(s) URL, else null. */
function webLink(link) {
  try {
    const u = new URL(text(link));
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

const siteOf = (link) => {
  try {
    return new URL(link).hostname.replace(/^www\./, '');
  } catch {
    return '';
  }
};

/** The ids of the tool calls among an answer's `parts`. */
export const callIds = (parts) => new Set((Array.isArray(parts) ? parts : [])
  .filter((p) => p?.type === 'tool_call' && p.tool_call?.id).map((p) => p.tool_call.id));

/**
 * The sources of message `m`: `list` numbered from 1 (`n`), in the attachments' order, each
 * file once however many of its passages came back; `byAnchor` finds one by `turn:kind:i`.
 * As in LibreChat's client, a file anchor `turn{k}file{i}` is the i-th file (its passages
 * merged) of the answer's k-th file search. `keep(a)` picks the attachments whose sources
 * count (a column's, of an answer given side by side); the others still count the turns.
 */
export function sourcesOf(m, keep = () => true) {
  const list = [];
  const byAnchor = new Map();
  const files = new Map();
  let fileTurn = 0;
  for (const a of Array.isArray(m?.attachments) ? m.attachments : []) {
    if (!keep(a)) {
      if (a?.type === 'file_search') fileTurn++;
      continue;
    }
    const web = a?.type === 'web_search' && a.web_search;
    if (web && typeof web === 'object') {
      const turn = Number.isInteger(web.turn) ? web.turn : 0;
      for (const [kind, field] of Object.entries(LISTS)) {
        (Array.isArray(web[field]) ? web[field] : []).forEach((s, i) => {
          if (!s || typeof s !== 'object') return;
          const link = webLink(s.link);
          const src = {
            n: list.length + 1, kind: 'web', link,
            title: text(s.title) || link || 'Source',
            site: text(s.source) || text(s.attribution) || siteOf(link),
            snippet: text(s.snippet),
          };
          list.push(src);
          byAnchor.set(`${turn}:${kind}:${i}`, src);
        });
      }
    }
    const found = a?.type === 'file_search' && a.file_search?.sources;
    if (Array.isArray(found)) {
      const here = [];
      for (const s of found) {
        if (!s || typeof s !== 'object') continue;
        const id = text(s.fileId) || text(s.file_id);
        let src = id && files.get(id);
        if (!src) {
          src = { n: list.length + 1, kind: 'file', fileId: id, title: text(s.fileName) || 'File', pages: [] };
          list.push(src);
          if (id) files.set(id, src);
        }
        if (!here.includes(src)) byAnchor.set(`${fileTurn}:file:${here.push(src) - 1}`, src);
        for (const p of Array.isArray(s.pages) ? s.pages : []) if (Number.isInteger(p) && !src.pages.includes(p)) src.pages.push(p);
        src.pages.sort((x, y) => x - y);
      }
      fileTurn++;
    }
  }
  return { list, byAnchor };
}

const pagesOf = (src) => (src.pages.length ? `${src.pages.length > 1 ? 'pages' : 'page'} ${src.pages.join(', ')}` : '');

/** What a citation says when pointed at: the title and where it is from. */
const about = (src) => [src.title, src.kind === 'file' ? pagesOf(src) : src.site].filter(Boolean).join(' — ');

/** Saves a cited file, through the route that gives a person their own files. */
async function download(src) {
  const user = currentUser()?.id;
  try {
    if (!user || !src.fileId) throw new Error('This file cannot be downloaded from here.');
    await saveFile({ filepath: `api/files/download/${encodeURIComponent(user)}/${encodeURIComponent(src.fileId)}`, filename: src.title });
  } catch (e) {
    toast(e.message, 'error');
  }
}

/** The mark for one citation: a link to a web source, a button that saves a file. */
function citation(src, files) {
  const props = { class: 'cite', title: about(src), 'aria-label': `Source ${src.n}: ${about(src)}` };
  if (src.kind === 'file') {
    return files ? h('button', { ...props, type: 'button', onclick: () => download(src) }, String(src.n))
      : h('span', props, String(src.n));
  }
  return src.link ? h('a', { ...props, href: src.link, target: '_blank', rel: 'noopener noreferrer' }, String(src.n))
    : h('span', props, String(src.n));
}

/**
 * Turns the anchors in `el`'s text (rendered markdown, or the plain text before it) into
 * citations of `sources` (from `sourcesOf`); `files: false` where files cannot be saved (a
 * shared page).
 */
export function cite(el, sources, { files = true } = {}) {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const hits = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (/\\ue20[0-4]|[\ue200-\ue204]/.test(n.data)) hits.push(n);
  }
  for (const node of hits) {
    const out = [];
    let at = 0;
    let last = null;
    for (const m of node.data.matchAll(ANCHOR)) {
      out.push(node.data.slice(at, m.index));
      at = m.index + m[0].length;
      const src = sources.byAnchor.get(`${m[1]}:${m[2]}:${m[3]}`);
      // The same source twice in a row is cited once.
      if (src && !(last === src && !out[out.length - 1].replace(MARK, '').trim())) {
        out.push(citation(src, files));
        last = src;
      }
    }
    out.push(node.data.slice(at));
    node.replaceWith(...out.map((p) => (typeof p === 'string' ? p.replace(MARK, '') : p)));
  }
  return el;
}

/** The list of `sources` under an answer, or null when it has none. */
export function sourceList(sources, { files = true } = {}) {
  if (!sources.list.length) return null;
  return h('details', { class: 'sources', open: true },
    h('summary', {}, `Sources (${sources.list.length})`),
    h('ol', { class: 'source-list' }, sources.list.map((s) => {
      const name = s.kind === 'file'
        ? (files ? h('button', { type: 'button', class: 'link', title: `Download ${s.title}`, onclick: () => download(s) }, s.title) : h('span', {}, s.title))
        : s.link ? h('a', { href: s.link, target: '_blank', rel: 'noopener noreferrer' }, s.title) : h('span', {}, s.title);
      const where = s.kind === 'file' ? pagesOf(s) : s.site;
      return h('li', { value: s.n }, name, where ? h('span', { class: 'source-site' }, where) : null,
        s.snippet ? h('span', { class: 'source-snippet' }, s.snippet) : null);
    })));
}

/**
 * Puts `sources` (from `sourcesOf`) after `body` in `el` (a message, or a column of one),
 * redrawn only when they changed (an answer is redrawn as it streams); returns them for
 * `cite`.
 */
export function showSources(el, body, sources, opts) {
  const sig = JSON.stringify(sources.list);
  if (el._sourcesSig !== sig) {
    el._sourcesSig = sig;
    const old = el.querySelector(':scope > .sources');
    const fresh = sourceList(sources, opts);
    if (old && fresh) old.replaceWith(fresh);
    else if (old) old.remove();
    else if (fresh) body.after(fresh);
  }
  return sources;
}

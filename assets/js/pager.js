// A list read a page at a time (LibreChat's `cursor` in, `after` and `has_more` out), as the
// agents and prompts screens show theirs: a "More" button for the next page, the newest load
// winning over one still under way, and a search box that reloads once typing pauses.

import { h, mount } from './dom.js';

/**
 * Pages into the list element `list`. `fetchPage(cursor)` reads one page (`cursor` null for
 * the first) as `{ items, after, has_more }`, `items` being list elements; `empty()` is what
 * an empty first page shows. The "More" button (`more`, labelled `moreLabel`) is the caller's
 * to place.
 */
export function pager(list, { moreLabel, fetchPage, empty }) {
  const state = { after: null, ticket: 0 };
  const more = h('button', { type: 'button', hidden: true, onclick: () => load(true) }, moreLabel);

  /** The first page again, or with `next` the one after those shown. */
  async function load(next = false) {
    const ticket = ++state.ticket;
    try {
      const page = await fetchPage(next ? state.after : null);
      if (ticket !== state.ticket) return;
      if (next) list.append(...page.items);
      else mount(list, page.items.length ? page.items : h('li', { class: 'muted' }, empty()));
      state.after = page.after;
      more.hidden = !page.has_more;
    } catch (e) {
      if (ticket === state.ticket) mount(list, h('li', { class: 'form-error', role: 'alert' }, e.message));
    }
  }

  /** Reloads from the first page as `search` is typed in (once typing pauses for 200 ms) and
   * as any of `selects` changes. */
  function reloadOn(search, ...selects) {
    let timer = null;
    search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => load(), 200);
    });
    for (const s of selects) s.addEventListener('change', () => load());
  }

  return { more, load, reloadOn };
}

// The sidebar: new chat, search with live results, the way to the prompts library and to the
// agents (when the role may use them), and the conversations grouped by date,
// loaded page by page as the list scrolls, all of them or one project's (./projects.js); each
// conversation can be renamed, shared, moved to a project, duplicated, exported, archived or
// deleted.

import { accessToken, config, currentUser, del, get, post, put, query, url } from './api.js';
import { avatar } from './avatar.js';
import { h, icon, iconButton, icons, mount, toast } from './dom.js';
import { convoEvents } from './chat.js';
import { loadCatalog } from './picker.js';
import { projectsPanel } from './projects.js';
import { permissionsOf } from './roles.js';
import { href, navigate } from './router.js';

const DAY = 86400000;

/** The group a date falls in: Today, Yesterday, Previous 7 days, Previous 30 days, or its month. */
export function groupOf(iso, now = new Date()) {
  const d = new Date(iso);
  const startOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const t = d.getTime();
  if (t >= startOfToday) return 'Today';
  if (t >= startOfToday - DAY) return 'Yesterday';
  if (t >= startOfToday - 7 * DAY) return 'Previous 7 days';
  if (t >= startOfToday - 30 * DAY) return 'Previous 30 days';
  return d.toLocaleDateString(undefined, { month: 'long', year: 'numeric' });
}

/** The parts of a search snippet: text, with the `<mark>`ed matches apart. */
export function snippetParts(snippet) {
  const decode = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#x27;/g, "'").replace(/&amp;/g, '&');
  return snippet.split(/(<mark>.*?<\/mark>)/s).filter(Boolean).map((piece) => {
    const m = piece.match(/^<mark>(.*)<\/mark>$/s);
    return m ? h('mark', {}, decode(m[1])) : decode(piece);
  });
}

/** Whether the prompts library is on (`interface.prompts`) and the role may use it. */
async function promptsAllowed() {
  const c = await config().catch(() => ({}));
  return c.interface?.prompts !== false && !!(await permissionsOf('PROMPTS')).USE;
}

/** Whether agents are on (the `agents` entry of `/api/endpoints`) and the role may use them. */
async function agentsAllowed() {
  const catalog = await loadCatalog().catch(() => ({}));
  return !!catalog.agents && !!(await permissionsOf('AGENTS')).USE;
}

export function sidebar({ onOpenSettings }) {
  const state = { convos: new Map(), cursor: null, loading: false, done: false, active: null, query: '', tag: '', project: '' };
  const list = h('nav', { class: 'convo-list', 'aria-label': 'Conversations' });
  const more = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
  const results = h('div', { class: 'search-results', hidden: true, 'aria-label': 'Search results', role: 'region' });
  const search = h('input', { type: 'search', id: 'search-input', class: 'search', placeholder: 'Search messages', 'aria-label': 'Search messages', autocomplete: 'off' });
  const tagFilter = h('select', { class: 'tag-filter', 'aria-label': 'Show bookmarks' }, h('option', { value: '' }, 'All conversations'));
  const user = currentUser();
  const projects = projectsPanel({
    onFilter(id) {
      state.project = id;
      reset();
    },
    onChanged: () => reset(),
  });
  const promptsLink = h('a', { class: 'button side-link', href: href('prompts'), 'data-link': '', hidden: true }, icon(...icons.prompts), 'Prompts');
  promptsAllowed().then((ok) => { promptsLink.hidden = !ok; });
  const agentsLink = h('a', { class: 'button side-link', href: href('agents'), 'data-link': '', hidden: true }, icon(...icons.agents), 'Agents');
  agentsAllowed().then((ok) => { agentsLink.hidden = !ok; });
  const aside = h('aside', { class: 'sidebar', id: 'sidebar', 'aria-label': 'Sidebar' },
    h('div', { class: 'side-top' },
      h('a', { class: 'button new-chat', href: href('c/new'), 'data-link': '', 'aria-label': 'New chat' }, icon(...icons.plus), 'New chat'),
      iconButton('close', 'Close sidebar', () => document.body.classList.remove('sidebar-open'), { class: 'icon-btn only-narrow' })),
    h('div', { class: 'side-search', role: 'search' }, search),
    promptsLink,
    agentsLink,
    tagFilter,
    projects.el,
    results,
    h('div', { class: 'convo-scroll' }, list, more),
    h('div', { class: 'side-bottom' },
      avatar(user),
      h('span', { class: 'who', title: user?.email || '' }, user?.name || user?.username || user?.email || ''),
      user?.role === 'ADMIN' ? h('a', { class: 'button small', href: href('admin'), 'data-link': '' }, 'Admin') : null,
      iconButton('gear', 'Settings', onOpenSettings),
      h('button', { type: 'button', class: 'small', onclick: logout }, 'Log out')));

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMore();
  });
  observer.observe(more);

  async function loadMore() {
    if (state.loading || state.done) return;
    state.loading = true;
    try {
      const page = await get(`api/convos${query({ cursor: state.cursor, limit: 25, 'tags[]': state.tag, projectId: state.project })}`);
      for (const c of page.conversations || []) state.convos.set(c.conversationId, c);
      state.cursor = page.nextCursor;
      state.done = !page.nextCursor;
      draw();
    } catch (e) {
      toast(`Cannot load conversations: ${e.message}`, 'error');
      state.done = true;
    } finally {
      state.loading = false;
    }
  }

  function reset() {
    state.convos.clear();
    state.cursor = null;
    state.done = false;
    draw();
    loadMore();
  }

  function draw() {
    const sorted = [...state.convos.values()]
      .filter((c) => !c.isArchived && (!state.project || c.chatProjectId === state.project))
      .sort((a, b) => (b.updatedAt || '').localeCompare(a.updatedAt || ''));
    const groups = new Map();
    for (const c of sorted) {
      const g = groupOf(c.updatedAt || c.createdAt || new Date().toISOString());
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(c);
    }
    mount(list, [...groups].map(([name, items]) => h('section', { class: 'convo-group' },
      h('h3', {}, name),
      h('ul', {}, items.map(item)))));
    if (!sorted.length && state.done) list.append(h('p', { class: 'muted' }, state.tag ? 'No bookmarked conversations.' : state.project ? 'No chats in this project yet.' : 'No conversations yet.'));
  }

  function item(c) {
    const active = c.conversationId === state.active;
    const link = h('a', {
      class: 'convo-link', href: href(`c/${c.conversationId}`), 'data-link': '',
      'aria-current': active ? 'page' : null, title: c.title || 'New Chat',
    }, c.title || 'New Chat');
    const li = h('li', { class: active ? 'convo active' : 'convo', 'data-id': c.conversationId }, link,
      iconButton('more', `Actions for ${c.title || 'New Chat'}`, (e) => openMenu(e, c, li)));
    return li;
  }

  function openMenu(e, c, li) {
    e.stopPropagation();
    document.querySelector('.convo-menu')?.remove();
    const act = (label, f) => h('button', { type: 'button', role: 'menuitem', onclick: () => { menu.remove(); f(); } }, label);
    const menu = h('div', { class: 'menu convo-menu', role: 'menu' },
      act('Rename', () => rename(c, li)),
      act('Bookmarks…', () => bookmark(c)),
      act('Share', () => share(c)),
      act('Move to project…', () => projects.move(c)),
      act('Duplicate', () => duplicate(c)),
      act('Export', () => exportConvo(c)),
      act('Archive', () => archive(c)),
      act('Delete', () => remove(c)));
    li.append(menu);
    menu.querySelector('button').focus();
    const close = (ev) => {
      if (!menu.contains(ev.target)) {
        menu.remove();
        document.removeEventListener('click', close);
      }
    };
    setTimeout(() => document.addEventListener('click', close));
    menu.addEventListener('keydown', (ev) => ev.key === 'Escape' && menu.remove());
  }

  function rename(c, li) {
    const input = h('input', { class: 'rename', 'aria-label': 'Conversation title', value: c.title || '' });
    const save = async () => {
      const title = input.value.trim();
      if (!title || title === c.title) return draw();
      try {
        const updated = await post('api/convos/update', { arg: { conversationId: c.conversationId, title } });
        state.convos.set(c.conversationId, { ...c, ...updated, title });
      } catch (e) {
        toast(e.message, 'error');
      }
      draw();
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') save();
      if (e.key === 'Escape') draw();
    });
    input.addEventListener('blur', save, { once: true });
    li.replaceChildren(input);
    input.focus();
    input.select();
  }

  async function bookmark(c) {
    const given = prompt('Bookmarks for this conversation (separated by commas)', (c.tags || []).join(', '));
    if (given === null) return;
    const tags = [...new Set(given.split(',').map((t) => t.trim()).filter(Boolean))];
    try {
      await put(`api/tags/convo/${encodeURIComponent(c.conversationId)}`, { tags });
      state.convos.set(c.conversationId, { ...c, tags });
      loadTags();
      toast(tags.length ? 'Bookmarked' : 'Bookmarks removed');
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function share(c) {
    try {
      let link = await get(`api/share/link/${encodeURIComponent(c.conversationId)}`);
      if (!link.success) link = await post(`api/share/${encodeURIComponent(c.conversationId)}`, {});
      const address = new URL(`share/${link.shareId}`, document.baseURI).toString();
      shareDialog(address);
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function duplicate(c) {
    try {
      const out = await post('api/convos/duplicate', { conversationId: c.conversationId });
      state.convos.set(out.conversation.conversationId, out.conversation);
      draw();
      navigate(`c/${out.conversation.conversationId}`);
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function exportConvo(c) {
    try {
      const res = await fetch(url(`api/convos/${encodeURIComponent(c.conversationId)}/export?format=json`), { headers: { Authorization: `Bearer ${accessToken()}` } });
      if (!res.ok) throw new Error(`Export failed (${res.status}).`);
      download(await res.blob(), `${(c.title || 'conversation').replace(/[^\w.-]+/g, '_')}.json`);
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function archive(c) {
    try {
      await post('api/convos/archive', { arg: { conversationId: c.conversationId, isArchived: true } });
      state.convos.delete(c.conversationId);
      draw();
      toast('Archived');
      if (state.active === c.conversationId) navigate('c/new');
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function remove(c) {
    if (!confirm(`Delete "${c.title || 'New Chat'}"? This cannot be undone.`)) return;
    try {
      await del('api/convos', { arg: { conversationId: c.conversationId } });
      state.convos.delete(c.conversationId);
      draw();
      if (state.active === c.conversationId) navigate('c/new');
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  let searchTimer = null;
  let searchTicket = 0;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 200);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      search.value = '';
      runSearch();
    }
  });

  async function runSearch() {
    const q = search.value.trim();
    const ticket = ++searchTicket;
    if (!q) {
      results.hidden = true;
      list.hidden = false;
      return;
    }
    try {
      const page = await get(`api/messages${query({ search: q, pageSize: 20 })}`);
      if (ticket !== searchTicket) return;
      list.hidden = true;
      results.hidden = false;
      const hits = page.messages || [];
      mount(results, hits.length ? h('ul', {}, hits.map((m) => h('li', {},
        h('a', { class: 'hit', href: href(`c/${m.conversationId}?m=${encodeURIComponent(m.messageId)}`), 'data-link': '' },
          h('span', { class: 'hit-title' }, m.title || 'New Chat'),
          h('span', { class: 'hit-snippet' }, snippetParts(m.snippet || m.text || '')))))) : h('p', { class: 'muted' }, 'No messages found.'));
    } catch (e) {
      if (ticket === searchTicket) mount(results, h('p', { class: 'form-error' }, e.message));
    }
  }

  async function loadTags() {
    try {
      const c = await config();
      const tags = c.interface?.bookmarks === false ? [] : await get('api/tags');
      tagFilter.replaceChildren(h('option', { value: '' }, 'All conversations'),
        ...tags.map((t) => h('option', { value: t.tag, selected: t.tag === state.tag }, `🔖 ${t.tag}`)));
      tagFilter.hidden = !tags.length;
    } catch {
      tagFilter.hidden = true;
    }
  }
  loadTags();
  tagFilter.addEventListener('change', () => {
    state.tag = tagFilter.value;
    reset();
  });

  convoEvents.addEventListener('convo', (e) => {
    const c = e.detail;
    if (!c?.conversationId) return;
    const before = state.convos.get(c.conversationId);
    state.convos.set(c.conversationId, { ...before, ...c });
    state.active = c.conversationId;
    draw();
    // Activity in a project's chat reorders the projects.
    if (c.chatProjectId || before?.chatProjectId) projects.reload();
  });

  return {
    el: aside,
    focusSearch: () => search.focus(),
    setActive(id) {
      state.active = id;
      draw();
    },
    reload: reset,
  };
}

function shareDialog(address) {
  const input = h('input', { readonly: true, value: address, 'aria-label': 'Shared link', class: 'wide' });
  const dialog = h('dialog', { class: 'dialog', 'aria-label': 'Share' },
    h('h2', {}, 'Shared link'),
    h('p', {}, 'Anyone with this link can read the conversation up to now.'),
    input,
    h('div', { class: 'dialog-buttons' },
      h('button', { type: 'button', class: 'primary', onclick: async () => {
        try {
          await navigator.clipboard.writeText(address);
          toast('Link copied');
        } catch {
          input.select();
        }
      } }, 'Copy link'),
      h('button', { type: 'button', onclick: () => dialog.close() }, 'Close')));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  input.select();
}

export function download(blob, name) {
  const a = h('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}

async function logout() {
  let redirect = null;
  try {
    redirect = (await post('api/auth/logout', {}))?.redirect;
  } catch {
    // Signed out locally either way.
  }
  const { setSession } = await import('./api.js');
  setSession(null);
  // Signed in with OpenID: also sign out at the provider.
  if (redirect && /^https?:/.test(redirect)) location.href = redirect;
  else navigate('login', { replace: true });
}

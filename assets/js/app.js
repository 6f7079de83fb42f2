// The app: routes, the signed-in layout (sidebar and main view), and keyboard shortcuts.

import { config, currentUser, onSession, refresh } from './api.js';
import { forgotScreen, loginScreen, oauthSuccessScreen, registerScreen, resetScreen, twoFactorScreen, verifyScreen } from './auth.js';
import { activeChat, chatScreen } from './chat.js';
import { h, iconButton, mount } from './dom.js';
import { applyTheme, openSettings } from './settings.js';
import { shareScreen } from './share.js';
import { sidebar } from './sidebar.js';
import { ensureTermsAccepted, forgetTerms } from './terms.js';
import { bannerBar } from './banner.js';
import { currentPath, fallback, navigate, route, start } from './router.js';

const root = document.getElementById('app');
let layout = null;

/** The signed-in frame: sidebar and main area, made once per session. */
function frame() {
  if (layout && document.body.contains(layout.el)) return layout;
  const main = h('main', { class: 'main', id: 'main' });
  const side = sidebar({ onOpenSettings: () => openSettings() });
  const top = h('div', { class: 'mobile-bar only-narrow' },
    iconButton('menu', 'Open sidebar', () => document.body.classList.add('sidebar-open')),
    h('span', { class: 'app-name' }, document.title));
  const el = h('div', { class: 'layout' }, side.el, h('div', { class: 'main-col' }, top, main),
    h('div', { class: 'scrim', onclick: () => document.body.classList.remove('sidebar-open') }));
  mount(root, el);
  layout = { el, main, side };
  ensureTermsAccepted().catch(() => {});
  bannerBar().then((bar) => bar && top.after(bar));
  return layout;
}

async function signedIn() {
  if (currentUser()) return true;
  if (await refresh()) return true;
  navigate(`login`, { replace: true });
  return false;
}

async function chat({ id }, params) {
  if (!(await signedIn())) return;
  const f = frame();
  document.body.classList.remove('sidebar-open');
  f.side.setActive(id === 'new' ? null : id);
  await chatScreen(f.main, id, { focus: params.m, agent: params.agent_id });
}

async function admin() {
  if (!(await signedIn())) return;
  const f = frame();
  const { adminScreen } = await import('./admin.js');
  activeChat()?.leave();
  await adminScreen(f.main);
}

/** A screen beside the chat (the prompts library, the agents), loaded when first opened. */
function beside(show) {
  return async (p, q) => {
    if (!(await signedIn())) return;
    const f = frame();
    document.body.classList.remove('sidebar-open');
    activeChat()?.leave();
    f.side.setActive(null);
    await show(f.main, p, q);
  };
}

function publicPage(screen) {
  return async (p, q) => {
    layout = null;
    if (currentUser() || (await refresh())) {
      return navigate('c/new', { replace: true });
    }
    return screen(root, q);
  };
}

route('login', publicPage((r, q) => loginScreen(r, q)));
route('login/2fa', publicPage((r, q) => twoFactorScreen(r, q)));
route('register', publicPage((r) => registerScreen(r)));
route('forgot-password', publicPage((r) => forgotScreen(r)));
route('reset-password', (p, q) => {
  layout = null;
  return resetScreen(root, q);
});
route('verify', (p, q) => {
  layout = null;
  return verifyScreen(root, q);
});
route('oauth/success', (p, q) => {
  layout = null;
  return oauthSuccessScreen(root, q);
});
route('share/:id', ({ id }) => {
  layout = null;
  return shareScreen(root, id);
});
route('c/:id', chat);
route('search', (p, q) => chat({ id: 'new' }, q));
route('admin', admin);
route('prompts', beside(async (main, p, q) => (await import('./prompts.js')).promptsScreen(main, q)));
route('prompts/new', beside(async (main) => (await import('./prompts.js')).newPromptScreen(main)));
route('prompts/:id', beside(async (main, { id }) => (await import('./prompt.js')).promptScreen(main, id)));
route('agents', beside(async (main, p, q) => (await import('./agents.js')).agentsScreen(main, q)));
route('agents/new', beside(async (main) => (await import('./agent.js')).agentScreen(main, null)));
route('agents/:id', beside(async (main, { id }) => (await import('./agent.js')).agentScreen(main, id)));
fallback(() => navigate('c/new', { replace: true }));

onSession((user) => {
  if (!user) {
    layout = null;
    forgetTerms();
  }
});

document.addEventListener('keydown', (e) => {
  const mod = e.ctrlKey || e.metaKey;
  if (mod && !e.shiftKey && e.key.toLowerCase() === 'k') {
    if (!layout) return;
    e.preventDefault();
    document.getElementById('search-input')?.focus();
  } else if (mod && e.shiftKey && e.key.toLowerCase() === 'o') {
    if (!layout) return;
    e.preventDefault();
    navigate('c/new');
  } else if (e.key === 'Escape' && !document.querySelector('dialog[open]')) {
    activeChat()?.stop();
  }
});
document.addEventListener('lc:reload-convos', () => layout?.side.reload());

async function boot() {
  applyTheme();
  try {
    const c = await config();
    document.title = c.appTitle || 'LibreChat';
  } catch {
    mount(root, h('main', { class: 'auth' }, h('div', { class: 'auth-card' }, h('h1', {}, 'Cannot reach the server'),
      h('p', {}, 'Check that the server is running, then reload this page.'))));
    return;
  }
  if (currentPath() === '') history.replaceState(null, '', new URL('c/new', document.baseURI).pathname);
  await start();
  document.body.dataset.ready = 'true';
}

boot();

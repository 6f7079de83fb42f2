// Settings, in a dialog with tabs: the theme, API keys, two-factor authentication, data
// (import, export, shared links, archived chats, bookmarks), memories, the balance, and the
// account.

import { ApiError, accessToken, config, currentUser, del, get, post, put, query, setSession, url } from './api.js';
import { avatarSection } from './avatar.js';
import { h, mount, toast } from './dom.js';
import { memoriesTab } from './memories.js';
import { loadCatalog } from './picker.js';
import { download } from './sidebar.js';
import { navigate } from './router.js';

const THEMES = [['system', 'System'], ['light', 'Light'], ['dark', 'Dark']];

export function applyTheme(theme = localStorage.getItem('theme') || 'system') {
  document.documentElement.dataset.theme = theme;
}

export async function openSettings(tab = 'general') {
  document.querySelector('dialog.settings')?.remove();
  const c = await config().catch(() => ({}));
  const tabs = [
    ['general', 'General', general],
    ['keys', 'API keys', keys],
    ['security', 'Security', security],
    ['data', 'Data', data],
    c.interface?.memories !== false ? ['memories', 'Memories', memoriesTab] : null,
    c.balance?.enabled ? ['balance', 'Balance', balance] : null,
    ['account', 'Account', account],
  ].filter(Boolean);
  const panel = h('div', { class: 'settings-panel', role: 'tabpanel', tabindex: 0 });
  const buttons = tabs.map(([id, label, draw]) => h('button', {
    type: 'button', role: 'tab', id: `tab-${id}`, 'aria-selected': 'false',
    onclick: () => show(id, draw),
  }, label));
  const dialog = h('dialog', { class: 'dialog settings', 'aria-label': 'Settings' },
    h('div', { class: 'dialog-head' }, h('h2', {}, 'Settings'),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close settings', onclick: () => dialog.close() }, '✕')),
    h('div', { class: 'settings-body' }, h('div', { class: 'tabs', role: 'tablist', 'aria-orientation': 'vertical' }, buttons), panel));
  function show(id, draw) {
    for (const b of buttons) b.setAttribute('aria-selected', String(b.id === `tab-${id}`));
    panel.setAttribute('aria-labelledby', `tab-${id}`);
    mount(panel, h('p', { class: 'muted' }, 'Loading…'));
    Promise.resolve(draw(panel, c)).catch((e) => mount(panel, h('p', { class: 'form-error' }, e.message)));
  }
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  const start = tabs.find(([id]) => id === tab) || tabs[0];
  show(start[0], start[2]);
}

function general(panel) {
  const current = localStorage.getItem('theme') || 'system';
  mount(panel, h('fieldset', { class: 'theme-choice' }, h('legend', {}, 'Theme'),
    THEMES.map(([value, label]) => h('label', { class: 'radio' },
      h('input', {
        type: 'radio', name: 'theme', value, checked: value === current,
        onchange: () => {
          localStorage.setItem('theme', value);
          applyTheme(value);
        },
      }), label))));
}

async function keys(panel) {
  const { endpoints } = await loadCatalog().catch(() => ({ endpoints: [] }));
  const all = await get('api/endpoints');
  const userProvided = Object.entries(all).filter(([, e]) => e.userProvide || e.userProvideURL);
  if (!userProvided.length) return mount(panel, h('p', { class: 'muted' }, 'Every endpoint here uses the server\'s keys; there is nothing to set.'));
  const rows = await Promise.all(userProvided.map(async ([name, e]) => {
    let expires = null;
    try {
      expires = (await get(`api/keys${query({ name })}`))?.expiresAt;
    } catch {
      // No key yet.
    }
    const input = h('input', { type: 'password', 'aria-label': `API key for ${name}`, autocomplete: 'off', placeholder: expires ? 'A key is set' : 'Paste your key', hidden: !e.userProvide });
    const baseUrl = h('input', { type: 'url', 'aria-label': `Base URL for ${name}`, placeholder: 'https://…/v1', hidden: !e.userProvideURL });
    return h('div', { class: 'key-row' },
      h('strong', {}, name),
      h('span', { class: 'muted' }, expires ? `Expires ${new Date(expires).toLocaleString()}` : 'No key'),
      input,
      baseUrl,
      h('button', { type: 'button', class: 'primary', onclick: async () => {
        if (!input.value && !baseUrl.value) return;
        // LibreChat's form: the key alone, or {apiKey, baseURL} when the URL is the user's.
        const value = e.userProvideURL ? JSON.stringify({ apiKey: input.value, baseURL: baseUrl.value }) : input.value;
        try {
          await put('api/keys', { name, value, expiresAt: null });
          toast('Key saved');
          keys(panel);
        } catch (e) {
          toast(e.message, 'error');
        }
      } }, 'Save'),
      expires ? h('button', { type: 'button', onclick: async () => {
        await del(`api/keys/${encodeURIComponent(name)}`).catch((e) => toast(e.message, 'error'));
        keys(panel);
      } }, 'Remove') : null);
  }));
  void endpoints;
  mount(panel, h('p', {}, 'Keys are stored encrypted on the server and used only for your messages.'), rows);
}

async function security(panel) {
  const user = await get('api/user');
  if (user.twoFactorEnabled) {
    const code = h('input', { 'aria-label': 'Authentication or backup code', autocomplete: 'one-time-code' });
    return mount(panel, h('p', {}, 'Two-factor authentication is on.'),
      h('div', { class: 'field' }, h('label', {}, 'Code to turn it off'), code),
      h('button', { type: 'button', onclick: async () => {
        const v = code.value.trim();
        try {
          await post('api/auth/2fa/disable', /^\d{6}$/.test(v) ? { token: v } : { backupCode: v });
          toast('Two-factor authentication is off');
          security(panel);
        } catch (e) {
          toast(e.message, 'error');
        }
      } }, 'Disable two-factor authentication'));
  }
  const confirmSlot = h('div', { class: 'proof' });
  mount(panel, h('p', {}, 'Protect your account with a code from an authenticator app.'),
    h('button', { type: 'button', class: 'primary', onclick: () => withProof(confirmSlot,
      (proof) => post('api/auth/2fa/enable', proof),
      (enrol) => enrolment(panel, enrol)) }, 'Enable two-factor authentication'),
    confirmSlot);
}

const PROOFS = {
  reauth_password: { label: 'Your password', type: 'password', autocomplete: 'current-password', body: (v) => ({ password: v }) },
  reauth_code: { label: 'Authentication or backup code', type: 'text', autocomplete: 'one-time-code', body: (v) => (/^\d{6}$/.test(v) ? { token: v } : { backupCode: v }) },
};

/**
 * Runs `send(proof)` and hands the answer to `done`. Sensitive changes need fresh proof that it
 * is really you once the sign-in is older than the server's window: when the server asks for
 * it (a password, or a 2FA code), a field for it appears in `slot` and the change is sent
 * again with what was typed. Other errors are shown as they come.
 */
async function withProof(slot, send, done, proof = {}) {
  let answer;
  try {
    answer = await send(proof);
  } catch (e) {
    const kind = PROOFS[e instanceof ApiError ? e.body?.type : ''];
    if (!kind) return toast(e.message, 'error');
    const input = h('input', { type: kind.type, 'aria-label': kind.label, autocomplete: kind.autocomplete });
    const go = () => withProof(slot, send, done, kind.body(input.value.trim()));
    input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') go(); });
    mount(slot, h('p', {}, e.message),
      h('div', { class: 'row' }, input, h('button', { type: 'button', class: 'primary', onclick: go }, 'Continue')));
    return input.focus();
  }
  mount(slot);
  return done(answer);
}

function enrolment(panel, enrol) {
  const secret = new URL(enrol.otpauthUrl.replace(/^otpauth:/, 'https:')).searchParams.get('secret') || '';
  const code = h('input', { id: 'f-2fa-code', inputmode: 'numeric', autocomplete: 'one-time-code', 'aria-label': 'Code from the app' });
  mount(panel,
    h('p', {}, 'Scan this code with your authenticator app, or enter the key by hand.'),
    enrol.qrCodeSvg ? h('img', { class: 'qr', alt: 'QR code for your authenticator app', width: 200, height: 200, src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrol.qrCodeSvg)}` }) : null,
    h('p', {}, 'Key: ', h('code', { class: 'secret', 'data-secret': secret }, secret)),
    h('p', {}, 'Backup codes (each works once; keep them safe):'),
    h('ul', { class: 'backup-codes' }, (enrol.backupCodes || []).map((b) => h('li', {}, h('code', {}, b)))),
    h('div', { class: 'field' }, h('label', { for: 'f-2fa-code' }, 'Code from the app'), code),
    h('button', { type: 'button', class: 'primary', onclick: async () => {
      try {
        await post('api/auth/2fa/confirm', { token: code.value.trim() });
        toast('Two-factor authentication is on');
        security(panel);
      } catch (e) {
        toast(e.message, 'error');
      }
    } }, 'Confirm'));
}

async function data(panel, c) {
  const file = h('input', { type: 'file', accept: '.json,application/json', 'aria-label': 'Conversations file to import' });
  const report = h('div', { class: 'import-report', role: 'status' });
  const importBtn = h('button', { type: 'button', class: 'primary', onclick: async () => {
    if (!file.files[0]) return toast('Choose a file first', 'error');
    if (c.conversationImportMaxFileSize && file.files[0].size > c.conversationImportMaxFileSize) {
      return toast('This file is larger than the server accepts.', 'error');
    }
    const form = new FormData();
    form.append('file', file.files[0]);
    importBtn.disabled = true;
    mount(report, 'Importing…');
    try {
      const r = await post('api/convos/import', form);
      showReport(report, r);
      document.dispatchEvent(new CustomEvent('lc:reload-convos'));
    } catch (e) {
      if (e.body && typeof e.body === 'object' && 'conversations' in e.body) showReport(report, e.body);
      else mount(report, h('p', { class: 'form-error' }, e.message));
    } finally {
      importBtn.disabled = false;
    }
  } }, 'Import');
  const shared = h('div', { class: 'shared-links' });
  const archived = h('div', { class: 'archived' });
  const tags = h('div', { class: 'bookmarks' });
  mount(panel,
    h('section', {}, h('h3', {}, 'Import conversations'), h('p', { class: 'muted' }, 'ChatGPT, Claude or LibreChat export files.'), file, importBtn, report),
    h('section', {}, h('h3', {}, 'Export'), h('button', { type: 'button', onclick: exportAll }, 'Export all conversations')),
    h('section', {}, h('h3', {}, 'Shared links'), shared),
    h('section', {}, h('h3', {}, 'Archived chats'), archived),
    h('section', {}, h('h3', {}, 'Bookmarks'), tags));
  drawShared(shared);
  drawArchived(archived);
  drawTags(tags);
}

function showReport(el, r) {
  mount(el,
    h('p', {}, r.message || `Imported ${r.conversations} conversations with ${r.messages} messages.`),
    r.skippedCount ? h('details', {}, h('summary', {}, `${r.skippedCount} skipped`),
      h('ul', {}, (r.skipped || []).map((s) => h('li', {}, typeof s === 'string' ? s : `${s.title || s.id || 'conversation'}: ${s.reason || ''}`)))) : null);
}

async function exportAll() {
  const all = [];
  let cursor = null;
  try {
    do {
      const page = await get(`api/convos${query({ cursor, limit: 100 })}`);
      for (const convo of page.conversations || []) {
        const res = await fetch(url(`api/convos/${encodeURIComponent(convo.conversationId)}/export?format=json`), { headers: { Authorization: `Bearer ${accessToken()}` } });
        if (res.ok) all.push(await res.json());
      }
      cursor = page.nextCursor;
    } while (cursor);
    download(new Blob([JSON.stringify(all, null, 2)], { type: 'application/json' }), 'conversations.json');
  } catch (e) {
    toast(e.message, 'error');
  }
}

async function drawShared(el) {
  try {
    const { links } = await get('api/share?pageSize=50');
    mount(el, links.length ? h('ul', { class: 'plain-list' }, links.map((l) => h('li', {},
      h('a', { href: new URL(`share/${l.shareId}`, document.baseURI).toString(), target: '_blank', rel: 'noopener' }, l.title || 'Shared conversation'),
      h('button', { type: 'button', class: 'small', onclick: async () => {
        await del(`api/share/${encodeURIComponent(l.shareId)}`).catch((e) => toast(e.message, 'error'));
        drawShared(el);
      } }, 'Delete')))) : h('p', { class: 'muted' }, 'No shared links.'));
  } catch (e) {
    mount(el, h('p', { class: 'muted' }, e.message));
  }
}

async function drawArchived(el) {
  const page = await get('api/convos?isArchived=true&limit=100');
  const items = page.conversations || [];
  mount(el, items.length ? h('ul', { class: 'plain-list' }, items.map((c) => h('li', {},
    h('span', {}, c.title || 'New Chat'),
    h('button', { type: 'button', class: 'small', onclick: async () => {
      await post('api/convos/archive', { arg: { conversationId: c.conversationId, isArchived: false } });
      document.dispatchEvent(new CustomEvent('lc:reload-convos'));
      drawArchived(el);
    } }, 'Unarchive'),
    h('button', { type: 'button', class: 'small', onclick: async () => {
      if (!confirm('Delete this conversation?')) return;
      await del('api/convos', { arg: { conversationId: c.conversationId } });
      drawArchived(el);
    } }, 'Delete')))) : h('p', { class: 'muted' }, 'No archived chats.'));
}

async function drawTags(el) {
  const tags = await get('api/tags');
  const input = h('input', { 'aria-label': 'New bookmark', placeholder: 'New bookmark' });
  mount(el,
    tags.length ? h('ul', { class: 'plain-list' }, tags.map((t) => h('li', {},
      h('span', {}, `${t.tag} (${t.count})`),
      h('button', { type: 'button', class: 'small', onclick: async () => {
        await del(`api/tags/${encodeURIComponent(t.tag)}`).catch((e) => toast(e.message, 'error'));
        drawTags(el);
      } }, 'Delete')))) : h('p', { class: 'muted' }, 'No bookmarks.'),
    h('div', { class: 'row' }, input, h('button', { type: 'button', onclick: async () => {
      if (!input.value.trim()) return;
      await post('api/tags', { tag: input.value.trim() }).catch((e) => toast(e.message, 'error'));
      drawTags(el);
    } }, 'Add')));
}

async function balance(panel) {
  const b = await get('api/balance');
  const credits = typeof b === 'object' ? b.tokenCredits ?? b.balance : b;
  mount(panel, h('p', { class: 'balance' }, `Balance: ${Number(credits).toLocaleString()} token credits`),
    b?.autoRefillEnabled ? h('p', { class: 'muted' }, `Refills ${b.refillAmount} every ${b.refillIntervalValue} ${b.refillIntervalUnit}.`) : null);
}

async function account(panel, c) {
  // Fresh from the server: two-factor may have been turned on since the sign-in.
  const user = await get('api/user').catch(() => currentUser());
  const deleteSlot = h('div', { class: 'proof' });
  mount(panel,
    h('p', {}, `${user?.name || ''} <${user?.email || ''}>`),
    avatarSection(user),
    user?.provider === 'local' ? passwordForm(user) : null,
    c.allowAccountDeletion !== false ? h('section', {}, h('h3', {}, 'Delete account'),
      h('button', { type: 'button', class: 'danger', onclick: () => {
        if (!confirm('Delete your account and all your conversations? This cannot be undone.')) return;
        withProof(deleteSlot, (proof) => del('api/user/delete', proof), () => {
          setSession(null);
          navigate('login', { replace: true });
          document.querySelector('dialog.settings')?.close();
        });
      } }, 'Delete account'), deleteSlot) : null);
}

/**
 * Changing the password takes the current one, and with two-factor on a code as well (the
 * field shows when the account has it on, or when the server asks for one); the server signs
 * out every other session.
 */
function passwordForm(user) {
  const field = (label, autocomplete) => h('input', { type: 'password', 'aria-label': label, autocomplete });
  const current = field('Current password', 'current-password');
  const next = field('New password', 'new-password');
  const again = field('Confirm new password', 'new-password');
  const code = h('input', { type: 'text', 'aria-label': 'Code from your authenticator app, or a backup code', autocomplete: 'one-time-code' });
  const codeField = h('div', { class: 'field', hidden: !user?.twoFactorEnabled }, code);
  const status = h('p', { role: 'status' });
  return h('section', {}, h('h3', {}, 'Change password'),
    h('form', { class: 'password-change', onsubmit: async (ev) => {
      ev.preventDefault();
      const proof = codeField.hidden ? {} : PROOFS.reauth_code.body(code.value.trim());
      try {
        await post('api/user/password', { currentPassword: current.value, password: next.value, confirm_password: again.value, ...proof });
        for (const f of [current, next, again, code]) f.value = '';
        mount(status, 'Password changed. Other devices were signed out.');
      } catch (e) {
        mount(status);
        if (e instanceof ApiError && e.body?.type === 'reauth_code') {
          codeField.hidden = false;
          code.focus();
        }
        toast(e.message, 'error');
      }
    } }, current, next, again, codeField, h('button', { type: 'submit' }, 'Change password'), status));
}

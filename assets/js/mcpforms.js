// The MCP dialogs and flows the composer's MCP menu opens: a server's variables (its
// `customUserVars`: which are set, new values, forgetting them), connecting to a server that
// needs a sign-in (LibreChat's OAuth flow: reinitialize, bind this browser, the provider's page
// in a new window, then the flow's status until it completes), and adding a server of one's own
// (`POST /api/mcp/servers`).

import { ApiError, get, post } from './api.js';
import { h, toast } from './dom.js';
import { authValueFlags, reinitialize, saveVariables, titleOf } from './mcp.js';

/** A modal dialog titled `title` around `form`; resolves when it closes. */
function modal(title, form) {
  const dialog = h('dialog', { class: 'dialog mcp-dialog', 'aria-label': title }, h('h2', {}, title), form);
  const closed = new Promise((resolve) => dialog.addEventListener('close', () => {
    dialog.remove();
    resolve();
  }));
  document.body.append(dialog);
  dialog.showModal();
  dialog.querySelector('input, select, textarea')?.focus();
  return { dialog, closed };
}

/** What a failed reinitialize says, in LibreChat's words where it gives a reason. */
function failure(r, name) {
  if (r?.failureReason === 'missing_custom_user_vars') return `${name} needs your values for ${(r.missingUserVars || []).join(', ')}.`;
  if (r?.failureReason === 'oauth_required') return `${name} needs you to sign in again.`;
  return r?.message || `Could not connect to ${name}.`;
}

/**
 * The dialog for a server's variables: one field per variable (its title and description),
 * saying which are already set (their values never come back); saving keeps the filled ones
 * and reconnects, "Forget" drops them all.
 */
export async function variablesDialog(server, onChange) {
  const vars = server.config.customUserVars || {};
  const flags = await authValueFlags(server.name);
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const fields = Object.entries(vars).map(([key, v]) => {
    const label = v?.title || key;
    const input = h('input', { type: 'password', autocomplete: 'off', name: key, 'aria-label': label,
      placeholder: flags[key] ? 'Set (leave empty to keep)' : 'Not set' });
    return { key, input, el: h('label', { class: 'field' }, h('span', {}, label, ' ',
      h('span', { class: `mcp-var-state ${flags[key] ? 'set' : 'unset'}` }, flags[key] ? '(set)' : '(not set)')),
    input, v?.description ? h('span', { class: 'muted small-print' }, v.description) : null) };
  });
  let done = false;
  const save = async (e) => {
    e.preventDefault();
    const values = Object.fromEntries(fields.filter((f) => f.input.value.trim()).map((f) => [f.key, f.input.value.trim()]));
    if (!Object.keys(values).length) return close();
    try {
      await saveVariables(server.name, values);
      const r = await reinitialize(server.name).catch((err) => ({ message: err.message }));
      toast(r?.success ? `${titleOf(server)} is connected.` : failure(r, titleOf(server)), r?.success ? 'info' : 'error');
      done = true;
      close();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  };
  const forget = async () => {
    try {
      await saveVariables(server.name, null);
      done = true;
      close();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  };
  const form = h('form', { class: 'mcp-vars', onsubmit: save }, fields.map((f) => f.el), error,
    h('div', { class: 'dialog-buttons' },
      h('button', { type: 'submit', class: 'primary' }, 'Save'),
      Object.values(flags).some(Boolean) ? h('button', { type: 'button', onclick: forget }, 'Forget my values') : null,
      h('button', { type: 'button', onclick: () => close() }, 'Cancel')));
  const { dialog, closed } = modal(`${titleOf(server)}: your values`, form);
  const close = () => dialog.close();
  await closed;
  if (done) onChange?.();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Connects to `server` again. One that needs a sign-in (the answer's `oauthRequired`) opens
 * the provider's page in a new window, after binding this browser to the sign-in, then follows
 * the flow (`GET /api/mcp/oauth/status/<flowId>`) until it completes or fails (within its
 * `oauthTimeout`), and connects once more. `onLink(url)` gets the provider's page while the
 * sign-in waits (null after), for a link should the browser have blocked the window. Resolves
 * to whether it is connected.
 */
export async function connect(server, onLink = () => {}) {
  const name = server.name;
  let r;
  try {
    r = await reinitialize(name);
  } catch (e) {
    toast(e.message, 'error');
    return false;
  }
  if (!(r?.oauthRequired && r.oauthUrl)) {
    if (r?.success && !r.oauthRequired) toast(`${titleOf(server)} is connected.`);
    else toast(failure(r, titleOf(server)), 'error');
    return !!r?.success && !r.oauthRequired;
  }
  await post(`api/mcp/${encodeURIComponent(name)}/oauth/bind`).catch(() => {});
  window.open(r.oauthUrl, '_blank', 'noopener,noreferrer');
  toast(`Sign in to ${titleOf(server)} in the new window.`);
  if (!r.flowId) return false;
  onLink(r.oauthUrl);
  try {
    return await follow(server, r);
  } finally {
    onLink(null);
  }
}

/** Follows a sign-in's flow until it completes (then connects again), fails or times out. */
async function follow(server, r) {
  const name = server.name;
  const until = Date.now() + (r.oauthTimeout || 600_000);
  for (let wait = 1000; Date.now() < until; wait = Math.min(wait * 1.5, 5000)) {
    await sleep(wait);
    let s;
    try {
      s = await get(`api/mcp/oauth/status/${encodeURIComponent(r.flowId)}`);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) break;
      continue;
    }
    if (s?.completed || s?.status === 'COMPLETED') {
      const again = await reinitialize(name).catch(() => null);
      const ok = !!again?.success && !again.oauthRequired;
      toast(ok ? `Signed in to ${titleOf(server)}.` : failure(again, titleOf(server)), ok ? 'info' : 'error');
      return ok;
    }
    if (s?.failed || s?.status === 'FAILED') {
      toast(s.error || `Signing in to ${titleOf(server)} failed.`, 'error');
      return false;
    }
  }
  toast(`Signing in to ${titleOf(server)} did not finish in time.`, 'error');
  return false;
}

/** `Name: value` lines → a headers object; throws on a line without a colon. */
function parseHeaders(text) {
  const out = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf(':');
    if (at <= 0) throw new Error(`"${line}" is not a header (Name: value).`);
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

/**
 * The form for a server of one's own (shown only to a role with `MCP_SERVERS.CREATE`): its
 * title, description, transport and address, and headers. The server checks and connects to
 * it before keeping it; `onAdded(serverName)` after.
 */
export function addServerDialog(onAdded) {
  const title = h('input', { type: 'text', required: true, maxlength: 100, pattern: '[a-zA-Z0-9 ]+', 'aria-label': 'Title' });
  const description = h('input', { type: 'text', maxlength: 500, 'aria-label': 'Description' });
  const type = h('select', { 'aria-label': 'Transport' },
    h('option', { value: 'streamable-http' }, 'Streamable HTTP'),
    h('option', { value: 'sse' }, 'SSE'),
    h('option', { value: 'websocket' }, 'WebSocket'));
  const url = h('input', { type: 'url', required: true, placeholder: 'https://mcp.example.com/mcp', 'aria-label': 'URL' });
  const headers = h('textarea', { rows: 3, placeholder: 'Authorization: Bearer …', 'aria-label': 'Headers' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Add server');
  const field = (label, input, hint) => h('label', { class: 'field' }, h('span', {}, label), input,
    hint ? h('span', { class: 'muted small-print' }, hint) : null);
  const submit = async (e) => {
    e.preventDefault();
    error.hidden = true;
    try {
      const config = { title: title.value.trim(), type: type.value, url: url.value.trim() };
      if (description.value.trim()) config.description = description.value.trim();
      const parsed = parseHeaders(headers.value);
      if (Object.keys(parsed).length) config.headers = parsed;
      button.disabled = true;
      button.textContent = 'Connecting…';
      const made = await post('api/mcp/servers', { config });
      dialog.close();
      toast(`Added ${config.title}.`);
      onAdded?.(made?.serverName);
    } catch (err) {
      error.textContent = err.body?.errors?.map?.((x) => x.message).filter(Boolean).join(' ') || err.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
      button.textContent = 'Add server';
    }
  };
  const form = h('form', { class: 'mcp-add', onsubmit: submit },
    field('Title', title, 'Letters, digits and spaces.'), field('Description', description), field('Transport', type),
    field('URL', url), field('Headers', headers, 'One per line, as Name: value.'), error,
    h('div', { class: 'dialog-buttons' }, button, h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel')));
  const { dialog } = modal('Add an MCP server', form);
}

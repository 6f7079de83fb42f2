// Tool calls in an answer: each a collapsible step with the tool's name and state (running,
// done, stopped), and inside it the arguments the model gave and the output it got back.
// An answer with calls shows its parts in order: text, a call, more text. A call that waits
// for the person to sign in (an OAuth action, an MCP server's OAuth) opens to show a sign-in
// button; one whose server reports progress shows a bar beside its title. An MCP server's
// tool (`<tool>_mcp_<server>`) shows by the tool's name, with its server's beside it.

import { post } from './api.js';
import { h } from './dom.js';
import { splitToolKey } from './mcp.js';

/** The arguments as the model sent them, indented when they are JSON. */
function pretty(args) {
  if (typeof args !== 'string') return JSON.stringify(args ?? {}, null, 2);
  try {
    return JSON.stringify(JSON.parse(args), null, 2);
  } catch {
    return args;
  }
}

/** `running` while it has no output and the answer goes on, `stopped` when it never got one. */
function stateOf(call, live) {
  if (call.output !== undefined && call.output !== null) return call.inputValidationError ? 'error' : 'done';
  return live ? 'running' : 'stopped';
}

const SUMMARY = {
  running: (n) => `Running ${n}…`,
  done: (n) => `Ran ${n}`,
  error: (n) => `${n}: the arguments were refused`,
  stopped: (n) => `${n} (stopped)`,
};

/**
 * The steps the person opened, by answer and place, so that they stay open when the answer
 * is drawn again (as it is when it ends). A few hundred at most are remembered.
 */
const opened = new Set();
const MAX_OPENED = 500;

/** The element for one call; `live` while the answer is being written; `key` names its place. */
export function toolStep(call, live, key = null) {
  const el = h('details', { class: 'tool-step', open: !!key && opened.has(key) });
  if (key) {
    el.addEventListener('toggle', () => {
      if (el.open) opened.add(key);
      else opened.delete(key);
      if (opened.size > MAX_OPENED) opened.delete(opened.values().next().value);
    });
  }
  el.append(h('summary', {}, h('span', { class: 'tool-status', 'aria-hidden': 'true' }), h('span', { class: 'tool-title' }),
    h('span', { class: 'tool-server', hidden: true })),
    h('div', { class: 'tool-io' },
      h('div', { class: 'tool-label tool-args-label' }, 'Arguments'), h('pre', { class: 'tool-args' }),
      h('div', { class: 'tool-label tool-output-label' }, 'Output'), h('pre', { class: 'tool-output' })));
  updateToolStep(el, call, live);
  return el;
}

/**
 * Where to bind this browser to a sign-in, from the link's `redirect_uri`: an action's
 * (`api/actions/<id>/oauth/callback`) or an MCP server's (`api/mcp/<server>/oauth/callback`).
 */
function bindingOf(link) {
  try {
    const back = new URL(new URL(link).searchParams.get('redirect_uri') || '').pathname;
    const found = back.match(/\/api\/(actions|mcp)\/([^/]+)\/oauth\/callback$/);
    return found ? `api/${found[1]}/${found[2]}/oauth/bind` : null;
  } catch {
    return null;
  }
}

/**
 * The sign-in box under a waiting call: a button that first binds this browser to the
 * sign-in (the cookie the server checks when the provider sends the person back), then opens
 * the provider's page in a new window; and LibreChat's warning to trust the site.
 */
function signInBox(link) {
  let host = '';
  try {
    host = new URL(link).host;
  } catch {
    return null;
  }
  const open = async () => {
    const binding = bindingOf(link);
    try {
      if (binding) await post(binding);
    } catch {
      // The window opens anyway; the server refuses a sign-in it cannot tie to this browser.
    }
    window.open(link, '_blank', 'noopener,noreferrer');
  };
  return h('div', { class: 'tool-sign-in' },
    h('button', { type: 'button', class: 'button primary', onclick: open }, `Sign in to ${host}`),
    h('p', { class: 'muted small-print' }, 'Only sign in to sites you trust.'));
}

/**
 * Shows the sign-in box in `el` while its call waits for one (the step opens to show it), and
 * takes it away after.
 */
function showSignIn(el, call, state) {
  const link = state === 'running' ? call.auth || null : null;
  const box = el.querySelector(':scope > .tool-sign-in');
  if ((box?.dataset.link || null) === link) return;
  box?.remove();
  const fresh = link ? signInBox(link) : null;
  if (fresh) {
    fresh.dataset.link = link;
    el.querySelector('summary').after(fresh);
    el.open = true;
  }
}

/**
 * How far a running call got (an MCP server's progress): a bar when the whole is known, and
 * the server's words or the count; gone once the call ended.
 */
function showProgress(el, call, state) {
  const p = state === 'running' ? call.liveProgress : null;
  // In the summary, so that it shows while the step is closed.
  let box = el.querySelector(':scope > summary > .tool-progress');
  if (!p || typeof p.progress !== 'number') {
    box?.remove();
    return;
  }
  if (!box) {
    box = h('span', { class: 'tool-progress', role: 'status' }, h('progress', {}), h('span', { class: 'muted small-print' }));
    el.querySelector('summary').append(box);
  }
  const bar = box.querySelector('progress');
  const whole = typeof p.total === 'number' && p.total > 0 ? p.total : null;
  if (whole) {
    bar.max = whole;
    bar.value = Math.min(p.progress, whole);
  } else {
    bar.removeAttribute('value');
  }
  const count = whole ? `${p.progress} of ${whole}` : `${p.progress}`;
  box.querySelector('span').textContent = typeof p.message === 'string' && p.message ? `${p.message} (${count})` : count;
}

/** Brings a call's element up to date, keeping it open or closed as the person left it. */
export function updateToolStep(el, call, live) {
  const state = stateOf(call, live);
  // An action's tool (`<operation>_action_<domain>`) by its operation's name, an MCP tool by
  // the tool's and its server's (the whole in its title).
  const mcp = splitToolKey(call.name);
  const name = mcp?.tool || (call.name || '').split('_action_')[0] || call.name || 'a tool';
  const server = el.querySelector('.tool-server');
  server.hidden = !mcp;
  server.textContent = mcp ? `MCP: ${mcp.server}` : '';
  el.dataset.state = state;
  el.dataset.callId = call.id || '';
  el.setAttribute('aria-busy', String(state === 'running'));
  // LibreChat's step for an MCP server's sign-in before the model runs: a call
  // `oauth_mcp_<server>` without arguments.
  const signIn = mcp?.tool === 'oauth' && !call.args;
  el.querySelector('.tool-title').textContent = signIn
    ? (state === 'running' ? `Waiting for your sign-in to ${mcp.server}…` : `Sign-in to ${mcp.server}`)
    : SUMMARY[state](name);
  if (name !== call.name && call.name) el.querySelector('.tool-title').title = call.name;
  el.querySelector('.tool-args').textContent = pretty(call.args);
  el.querySelector('.tool-args').hidden = signIn;
  el.querySelector('.tool-args-label').hidden = signIn;
  const hasOutput = state === 'done' || state === 'error';
  el.querySelector('.tool-output').textContent = hasOutput ? String(call.output) : '';
  el.querySelector('.tool-output').hidden = !hasOutput;
  el.querySelector('.tool-output-label').hidden = !hasOutput;
  showSignIn(el, call, state);
  showProgress(el, call, state);
}

/**
 * Puts an answer's parts in `body` in order: each run of text through `showText(el, text,
 * artifactsBefore)`, each call as a step. The elements are kept from one call to the next
 * (an answer streams in); `key` (the message's id) keeps opened steps open across redraws.
 */
export function showParts(body, parts, { live, key, showText, countArtifacts }) {
  const pieces = [];
  let text = null;
  for (const p of parts) {
    if (!p) continue;
    if (p.type === 'text') {
      const t = typeof p.text === 'string' ? p.text : p.text?.value || '';
      if (text === null) pieces.push((text = { kind: 'text', parts: [] }));
      if (t) text.parts.push(t);
    } else if (p.type === 'tool_call' && p.tool_call) {
      text = null;
      pieces.push({ kind: 'call', call: p.tool_call });
    }
  }
  if (body._mode !== 'steps') {
    // Markdown still being rendered for the whole body must not land over the steps.
    body._renderTicket = (body._renderTicket || 0) + 1;
    body.replaceChildren();
    body._parts = null;
    body._steps = [];
    body._mode = 'steps';
  }
  const kept = body._steps;
  let artifacts = 0;
  pieces.forEach((piece, i) => {
    const old = kept[i];
    let el;
    if (piece.kind === 'text') {
      const joined = piece.parts.join('\n\n');
      el = old?.kind === 'text' ? old.el : h('div', { class: 'answer-part' });
      showText(el, joined, artifacts);
      artifacts += countArtifacts(joined);
    } else if (old?.kind === 'call' && old.id === piece.call.id) {
      el = old.el;
      updateToolStep(el, piece.call, live);
    } else {
      el = toolStep(piece.call, live, key ? `${key}:${i}` : null);
    }
    if (el !== old?.el) {
      if (old) old.el.replaceWith(el);
      else body.append(el);
    }
    kept[i] = { kind: piece.kind, id: piece.call?.id, el };
  });
  for (const extra of kept.splice(pieces.length)) extra.el.remove();
}

/** Forgets the step layout of `body` (its answer has no calls after all). */
export function plainBody(body) {
  if (body._mode === 'steps') {
    body.replaceChildren();
    body._steps = null;
    body._mode = null;
  }
}

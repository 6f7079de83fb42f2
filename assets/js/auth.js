// The sign-in screens: login (with the two-factor step), registration, forgotten and reset
// password, email verification, and the single sign-on buttons `/api/config` reports.

import { ApiError, config, post, setSession } from './api.js';
import { h, mount } from './dom.js';
import { href, navigate } from './router.js';
import { bannerBar } from './banner.js';

function card(title, ...body) {
  return h('main', { class: 'auth' },
    h('div', { class: 'auth-card' },
      h('img', { class: 'logo', src: 'favicon.svg', alt: '', width: 48, height: 48 }),
      h('h1', {}, title),
      ...body));
}

function field(label, name, type = 'text', extra = {}) {
  const id = `f-${name}`;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name, type, required: true, ...extra }));
}

/** Says so in `err` when the two password fields differ. */
function passwordsMatch(v, err) {
  if (v.password === v.confirm_password) return true;
  err.textContent = 'The passwords do not match.';
  err.hidden = false;
  return false;
}

function errorBox() {
  return h('p', { class: 'form-error', role: 'alert', hidden: true });
}

function showError(box, e) {
  let text = e instanceof ApiError ? e.message : 'Cannot reach the server. Please try again.';
  if (e instanceof ApiError && e.status === 403 && /ban/i.test(text) === false && e.body?.ban) {
    text = 'Your account is temporarily banned.';
  }
  box.textContent = text;
  box.hidden = false;
}

/** A form whose submit runs `action(values)`; errors show in the form. */
function form(fields, submitLabel, action) {
  const err = errorBox();
  const button = h('button', { type: 'submit', class: 'primary wide' }, submitLabel);
  const f = h('form', {
    class: 'auth-form',
    onsubmit: async (e) => {
      e.preventDefault();
      err.hidden = true;
      button.disabled = true;
      try {
        await action(Object.fromEntries(new FormData(f)), err);
      } catch (ex) {
        showError(err, ex);
      } finally {
        button.disabled = false;
      }
    },
  }, err, ...fields, button);
  return f;
}

const STRATEGIES = [
  ['openid', 'openidLoginEnabled', (c) => c.openidLabel || 'Continue with OpenID'],
  ['saml', 'samlLoginEnabled', (c) => c.samlLabel || 'Continue with SAML'],
  ['google', 'googleLoginEnabled', () => 'Continue with Google'],
  ['github', 'githubLoginEnabled', () => 'Continue with GitHub'],
  ['discord', 'discordLoginEnabled', () => 'Continue with Discord'],
  ['facebook', 'facebookLoginEnabled', () => 'Continue with Facebook'],
  ['apple', 'appleLoginEnabled', () => 'Continue with Apple'],
];

function ssoButtons(c) {
  if (c.socialLoginEnabled === false) return null;
  const buttons = STRATEGIES.filter(([, flag]) => c[flag]).map(([name, , label]) =>
    h('a', { class: 'button sso', href: `${c.serverDomain?.replace(/\/$/, '') || ''}/oauth/${name}`, 'data-strategy': name }, label(c)));
  return buttons.length ? h('div', { class: 'sso-list' }, h('div', { class: 'divider' }, 'or'), buttons) : null;
}

async function signedIn(body) {
  setSession(body.token, body.user);
  navigate('c/new', { replace: true });
}

export async function loginScreen(root, params = {}) {
  const c = await config();
  document.title = c.appTitle || 'LibreChat';
  const ldap = c.ldap?.enabled;
  const idLabel = ldap && c.ldap.username ? 'Username' : 'Email';
  const notice = params.error ? h('p', { class: 'form-error', role: 'alert' }, params.message || 'Sign-in failed.') : null;
  const login = form([
    field(idLabel, 'email', ldap && c.ldap.username ? 'text' : 'email', { autocomplete: 'username' }),
    field('Password', 'password', 'password', { autocomplete: 'current-password' }),
  ], 'Continue', async (v, err) => {
    const body = await post('api/auth/login', { email: v.email, password: v.password });
    if (body.twoFAPending) return mount(root, twoFactorStep(body.tempToken, err));
    return signedIn(body);
  });
  mount(root, card('Welcome back', notice,
    c.emailLoginEnabled !== false ? login : null,
    c.passwordResetEnabled ? h('p', { class: 'aside' }, h('a', { href: href('forgot-password'), 'data-link': '' }, 'Forgot password?')) : null,
    c.registrationEnabled ? h('p', { class: 'aside' }, "Don't have an account? ", h('a', { href: href('register'), 'data-link': '' }, 'Sign up')) : null,
    ssoButtons(c)));
  // A public banner shows here too (the server sends only public ones before sign-in).
  bannerBar().then((bar) => bar && root.prepend(bar));
  if (c.openidAutoRedirect && c.openidLoginEnabled && params.redirect !== 'false') {
    location.href = `${c.serverDomain?.replace(/\/$/, '') || ''}/oauth/openid`;
  }
}

/** The two-factor step on its own page (`login/2fa?tempToken=`), where single sign-on lands
 * for an account with 2FA on, as in LibreChat's client. */
export async function twoFactorScreen(root, params) {
  if (!params.tempToken) return navigate('login', { replace: true });
  const c = await config();
  document.title = c.appTitle || 'LibreChat';
  // The token is kept in memory only, off the address bar and history.
  history.replaceState(null, '', href('login/2fa'));
  return mount(root, twoFactorStep(params.tempToken));
}

function twoFactorStep(tempToken) {
  let useBackup = false;
  const input = h('input', { id: 'f-code', name: 'code', required: true, autocomplete: 'one-time-code', inputmode: 'numeric' });
  const label = h('label', { for: 'f-code' }, 'Authentication code');
  const toggle = h('button', {
    type: 'button', class: 'link',
    onclick: () => {
      useBackup = !useBackup;
      label.textContent = useBackup ? 'Backup code' : 'Authentication code';
      input.inputMode = useBackup ? 'text' : 'numeric';
      toggle.textContent = useBackup ? 'Use an authentication code' : 'Use a backup code';
    },
  }, 'Use a backup code');
  const f = form([h('div', { class: 'field' }, label, input)], 'Verify', async (v) => {
    const code = v.code.trim();
    const body = await post('api/auth/2fa/verify-temp', useBackup ? { tempToken, backupCode: code } : { tempToken, token: code });
    return signedIn(body);
  });
  return card('Two-factor authentication', h('p', { class: 'aside' }, 'Enter the code from your authenticator app.'), f, toggle);
}

export async function registerScreen(root) {
  const c = await config();
  if (!c.registrationEnabled) return navigate('login', { replace: true });
  const min = c.minPasswordLength || 8;
  const f = form([
    field('Full name', 'name', 'text', { autocomplete: 'name' }),
    field('Username', 'username', 'text', { autocomplete: 'username', required: false }),
    field('Email', 'email', 'email', { autocomplete: 'email' }),
    field('Password', 'password', 'password', { autocomplete: 'new-password', minlength: min }),
    field('Confirm password', 'confirm_password', 'password', { autocomplete: 'new-password', minlength: min }),
  ], 'Create account', async (v, err) => {
    if (!passwordsMatch(v, err)) return;
    const token = new URLSearchParams(location.search).get('token');
    await post('api/auth/register', token ? { ...v, token } : v);
    try {
      const body = await post('api/auth/login', { email: v.email, password: v.password });
      if (body.token) return signedIn(body);
    } catch {
      // Verification first: say so.
    }
    mount(root, card('Check your email', h('p', {}, 'Your account was created. Follow the link we sent to verify your email, then sign in.'),
      h('a', { class: 'button primary wide', href: href('login'), 'data-link': '' }, 'Sign in')));
  });
  mount(root, card('Create your account', f,
    h('p', { class: 'aside' }, 'Already have an account? ', h('a', { href: href('login'), 'data-link': '' }, 'Sign in')),
    ssoButtons(c)));
}

export async function forgotScreen(root) {
  const f = form([field('Email', 'email', 'email', { autocomplete: 'email' })], 'Send reset link', async (v) => {
    await post('api/auth/requestPasswordReset', { email: v.email });
    mount(root, card('Check your email', h('p', {}, 'If an account exists for that address, a reset link is on its way.'),
      h('a', { class: 'button primary wide', href: href('login'), 'data-link': '' }, 'Back to sign in')));
  });
  mount(root, card('Reset your password', f, h('p', { class: 'aside' }, h('a', { href: href('login'), 'data-link': '' }, 'Back to sign in'))));
}

export async function resetScreen(root, params) {
  const c = await config();
  const min = c.minPasswordLength || 8;
  const f = form([
    field('New password', 'password', 'password', { autocomplete: 'new-password', minlength: min }),
    field('Confirm password', 'confirm_password', 'password', { autocomplete: 'new-password', minlength: min }),
  ], 'Set password', async (v, err) => {
    if (!passwordsMatch(v, err)) return;
    await post('api/auth/resetPassword', { userId: params.userId, token: params.token, ...v });
    mount(root, card('Password changed', h('p', {}, 'You can sign in with your new password.'),
      h('a', { class: 'button primary wide', href: href('login'), 'data-link': '' }, 'Sign in')));
  });
  mount(root, card('Choose a new password', f));
}

/**
 * Where an action's (or an MCP server's) sign-in window lands once the provider sent the person
 * back and the server kept the tokens (`/oauth/success?serverName=`): the call waiting in the
 * chat goes on by itself, so this window only says so and offers to close.
 */
export function oauthSuccessScreen(root, params) {
  const name = params.serverName || '';
  mount(root, card('Signed in', h('p', {}, name ? `You are signed in to ${name}.` : 'You are signed in.'),
    h('p', { class: 'aside' }, 'The chat goes on in the window you came from.'),
    h('button', { class: 'button primary wide', type: 'button', onclick: () => window.close() }, 'Close this window')));
}

export async function verifyScreen(root, params) {
  mount(root, card('Verifying your email…'));
  try {
    await post('api/user/verify', { email: params.email, token: params.token });
    mount(root, card('Email verified', h('p', {}, 'Thank you. You can sign in now.'),
      h('a', { class: 'button primary wide', href: href('login'), 'data-link': '' }, 'Sign in')));
  } catch (e) {
    mount(root, card('Verification failed', h('p', { class: 'form-error', role: 'alert' }, e.message),
      h('a', { class: 'button wide', href: href('login'), 'data-link': '' }, 'Back to sign in')));
  }
}

// The form of one action (LibreChat's `ActionMetadata`), in a dialog: the OpenAPI document
// (JSON or YAML), how to authenticate (none; an API key sent as a bearer token, basic
// credentials, in a header it names or a query parameter; OAuth with its client, endpoints
// and scope) and the privacy policy's URL. It is saved with `POST /api/agents/actions/:id`
// without `functions` or `domain`: the server reads both from the document (this app reads
// no YAML). Secrets are never answered: on an edit their boxes stay empty, and empty keeps
// what is stored while the action calls the same place (the server says when it does not).

import { post, url } from './api.js';
import { h, mount } from './dom.js';

const KEY_TYPES = [['bearer', 'Bearer token (Authorization: Bearer …)'], ['basic', 'Basic (the key is user:password)'],
  ['custom', 'A header of its own'], ['query', 'A query parameter']];
const EXCHANGE = [['default_post', 'Client id and secret in the request body'], ['basic_auth_header', 'Client id and secret in a Basic header']];

let seq = 0;
/** A labelled control; `id` ties the label to it. */
function field(label, control, hint) {
  control.id ||= `action-field-${++seq}`;
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control,
    hint ? h('span', { class: 'muted small-print' }, hint) : null);
}
const options = (list, value) => list.map(([v, l]) => h('option', { value: v, selected: v === value }, l));
const secret = (kept) => h('input', { type: 'password', autocomplete: 'off', placeholder: kept ? 'Saved: leave empty to keep it' : '' });

/**
 * Opens the form for `action` (`null` for a new one) of `agent`; `onSaved([agent, action])`
 * runs once the server has saved it.
 */
export function actionDialog(agent, action, onSaved) {
  const meta = action?.metadata || {};
  const auth = meta.auth || {};
  const editing = !!action;
  const spec = h('textarea', { rows: 12, required: true, spellcheck: 'false', class: 'code-input',
    placeholder: 'openapi: 3.0.0\nservers:\n  - url: https://api.example.com/v1\npaths: …' }, meta.raw_spec || '');
  const kind = h('select', {}, options([['none', 'None'], ['service_http', 'API key'], ['oauth', 'OAuth']], auth.type || 'none'));
  const key = secret(editing && auth.type === 'service_http');
  const keyType = h('select', {}, options(KEY_TYPES, auth.authorization_type || 'bearer'));
  const keyName = h('input', { value: auth.custom_auth_header || '', placeholder: 'X-Api-Key', maxlength: 128 });
  const keyNameField = field('Header or parameter name', keyName);
  const oauthKept = editing && auth.type === 'oauth';
  const clientId = secret(oauthKept);
  const clientSecret = secret(oauthKept);
  const authUrl = h('input', { type: 'url', value: auth.authorization_url || '', placeholder: 'https://example.com/oauth/authorize' });
  const tokenUrl = h('input', { type: 'url', value: auth.client_url || '', placeholder: 'https://example.com/oauth/token' });
  const scope = h('input', { value: auth.scope || '' });
  const exchange = h('select', {}, options(EXCHANGE, auth.token_exchange_method || 'default_post'));
  const privacy = h('input', { type: 'url', value: meta.privacy_policy_url || '', placeholder: 'https://example.com/privacy' });
  const keyBox = h('fieldset', { class: 'agent-fieldset' }, h('legend', {}, 'API key'),
    field('API key', key), field('Send it as', keyType), keyNameField);
  const callback = editing ? url(`api/actions/${encodeURIComponent(action.action_id)}/oauth/callback`) : null;
  const oauthBox = h('fieldset', { class: 'agent-fieldset' }, h('legend', {}, 'OAuth'),
    field('Client ID', clientId), field('Client secret', clientSecret), field('Authorization URL', authUrl),
    field('Token URL', tokenUrl), field('Scope', scope), field('Token exchange', exchange),
    h('p', { class: 'muted small-print' }, callback ? `Redirect URL to register with the provider: ${callback}`
      : 'The redirect URL to register with the provider is shown once the action is saved.'));
  const sync = () => {
    keyBox.hidden = kind.value !== 'service_http';
    oauthBox.hidden = kind.value !== 'oauth';
    keyNameField.hidden = !['custom', 'query'].includes(keyType.value);
    keyName.required = !keyNameField.hidden && !keyBox.hidden;
  };
  kind.addEventListener('change', sync);
  keyType.addEventListener('change', sync);
  sync();
  const error = h('p', { class: 'form-error', role: 'alert' });
  const saveButton = h('button', { type: 'submit', class: 'primary' }, 'Save action');

  const body = () => {
    const metadata = { raw_spec: spec.value, auth: { type: kind.value } };
    const set = (k, input) => { if (input.value.trim()) metadata[k] = input.value.trim(); };
    if (kind.value === 'service_http') {
      Object.assign(metadata.auth, { authorization_type: keyType.value });
      if (!keyNameField.hidden) metadata.auth.custom_auth_header = keyName.value.trim();
      set('api_key', key);
    } else if (kind.value === 'oauth') {
      Object.assign(metadata.auth, { authorization_url: authUrl.value.trim(), client_url: tokenUrl.value.trim(),
        scope: scope.value.trim(), token_exchange_method: exchange.value });
      set('oauth_client_id', clientId);
      set('oauth_client_secret', clientSecret);
    }
    set('privacy_policy_url', privacy);
    // No `functions` and no `domain`: the server reads them from the document.
    return editing ? { action_id: action.action_id, metadata } : { metadata };
  };
  const save = async (e) => {
    e.preventDefault();
    mount(error);
    saveButton.disabled = true;
    try {
      const saved = await post(`api/agents/actions/${encodeURIComponent(agent.id)}`, body());
      dialog.close();
      onSaved(saved);
    } catch (err) {
      mount(error, err.message);
      saveButton.disabled = false;
    }
  };

  const title = editing ? `Edit the action on ${meta.domain}` : 'Add an action';
  const dialog = h('dialog', { class: 'dialog action-dialog', 'aria-label': title },
    h('form', { class: 'prompt-form', onsubmit: save },
      h('div', { class: 'dialog-head' }, h('h2', {}, title)),
      field('OpenAPI document (JSON or YAML)', spec, 'Each operation becomes a tool the agent\'s model may call; the first server is where the calls go.'),
      field('Authentication', kind), keyBox, oauthBox,
      field('Privacy policy URL', privacy),
      error,
      h('div', { class: 'dialog-buttons' }, saveButton, h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'))));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  spec.focus();
}

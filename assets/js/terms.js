// The terms of service, when `interface.termsOfService.modalAcceptance` asks every user to
// accept them: a dialog that stays until they are accepted; declining signs out.

import { config, get, post, setSession } from './api.js';
import { h, serverHtml, toast } from './dom.js';
import { renderMarkdown } from './render.js';
import { navigate } from './router.js';

let checked = false;

export async function ensureTermsAccepted() {
  if (checked) return;
  const tos = (await config().catch(() => ({})))?.interface?.termsOfService;
  if (!tos?.modalAcceptance) {
    checked = true;
    return;
  }
  const { termsAccepted } = await get('api/user/terms');
  if (termsAccepted) {
    checked = true;
    return;
  }
  const body = h('div', { class: 'markdown terms-body' }, tos.modalContent || '');
  if (tos.modalContent) renderMarkdown(String(tos.modalContent)).then((html) => serverHtml(body, html)).catch(() => {});
  const dialog = h('dialog', { class: 'dialog terms', 'aria-label': tos.modalTitle || 'Terms of Service' },
    h('h2', {}, tos.modalTitle || 'Terms of Service'),
    body,
    tos.externalUrl ? h('p', {}, h('a', { href: tos.externalUrl, target: '_blank', rel: 'noopener' }, 'Read the full terms')) : null,
    h('div', { class: 'dialog-buttons' },
      h('button', { type: 'button', onclick: async () => {
        dialog.remove();
        await post('api/auth/logout', {}).catch(() => {});
        setSession(null);
        navigate('login', { replace: true });
      } }, 'Decline'),
      h('button', { type: 'button', class: 'primary', onclick: async () => {
        try {
          await post('api/user/terms/accept', {});
          checked = true;
          dialog.close();
        } catch (e) {
          toast(e.message, 'error');
        }
      } }, 'Accept')));
  // Escape does not dismiss it: the terms must be answered.
  dialog.addEventListener('cancel', (e) => e.preventDefault());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

export function forgetTerms() {
  checked = false;
}

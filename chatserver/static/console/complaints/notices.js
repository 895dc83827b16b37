// SLA warnings and breaches for the console: a toast that opens the complaint, and a count on the
// Complaints tab until the agent looks there.
import { $, h, icon, ICONS } from '../dom.js';

const TOAST_MS = 8000;
const TARGET = { response: 'answer', resolution: 'resolution' };
let unseen = 0;

export function slaToast(notice, open) {
  const breach = notice.kind === 'breach';
  const what = TARGET[notice.target] || notice.target;
  const text = breach
    ? `The ${what} is overdue${notice.level ? ` — now level ${notice.level}` : ''}.`
    : `The ${what} is due soon.`;
  const el = h('div', { class: `toast toast-sla toast-sla-${breach ? 'breach' : 'warning'}`, role: breach ? 'alert' : 'status' },
    icon(ICONS.clock),
    h('div', { class: 'toast-sla-text' },
      h('strong', {}, `${breach ? 'SLA breach' : 'SLA warning'} · `, h('span', { class: 'toast-sla-ref' }, notice.reference)),
      h('span', {}, text),
      notice.subject ? h('span', { class: 'toast-sla-subject' }, notice.subject) : null),
    h('button', { type: 'button', class: 'toast-action', onclick: () => { el.remove(); open(notice.reference); } }, 'Open'));
  const box = $('toasts');
  box.append(el);
  while (box.children.length > 3) box.firstElementChild.remove();
  setTimeout(() => el.classList.add('is-leaving'), TOAST_MS);
  setTimeout(() => el.remove(), TOAST_MS + 400);
}

/** Count a notice on the tab unless the complaints are on screen. */
export function countNotice() {
  if (!$('complaints').hidden && document.visibilityState === 'visible') return;
  unseen += 1;
  paint();
}

export function clearNotices() {
  unseen = 0;
  paint();
}

function paint() {
  const badge = $('complaints-badge');
  badge.textContent = unseen > 9 ? '9+' : String(unseen);
  badge.hidden = unseen === 0;
  badge.setAttribute('aria-label', `${unseen} SLA notice${unseen === 1 ? '' : 's'}`);
}

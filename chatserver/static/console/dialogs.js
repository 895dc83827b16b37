// Transfer and close dialogs (native <dialog>: focus trap and Escape for free).
import { $, h, clear } from './dom.js';
import { state } from './state.js';
import { markInvalid } from './complaints/dialog.js';

const STATUS_LABEL = { online: 'Online', away: 'Away', offline: 'Offline' };

function wireCancel(dialog) {
  for (const button of dialog.querySelectorAll('[data-close]')) button.addEventListener('click', () => dialog.close());
}

/** The dialog's error, and the field it is about (if any) marked invalid and described by it. */
function showError(id, text, field = null) {
  const error = $(id);
  error.textContent = text || '';
  error.hidden = !text;
  for (const marked of error.closest('form').querySelectorAll('[aria-invalid="true"]')) markInvalid(marked, error, false);
  if (field && text) markInvalid(field, error, true);
}

export function setupTransfer({ call, done }) {
  const dialog = $('transfer-dialog');
  wireCancel(dialog);
  $('transfer-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = dialog.querySelector('input[name="transfer-to"]:checked');
    if (!chosen) return;
    const button = $('transfer-submit');
    button.disabled = true;
    const payload = { conversation_id: state.selected };
    if (chosen.value) payload.to_agent_id = chosen.value;
    const ack = await call('chat:transfer', payload);
    button.disabled = false;
    if (!ack.ok) {
      showError('transfer-error', ack.error.message);
      return;
    }
    dialog.close();
    done(payload.to_agent_id ? state.colleagues.find((c) => c.id === payload.to_agent_id) : null);
  });
  return () => {
    const box = clear($('transfer-choices'));
    box.append(h('legend', { class: 'sr-only' }, 'Transfer to'));
    const colleagues = [...state.colleagues].sort((a, b) => (a.status === 'online' ? 0 : 1) - (b.status === 'online' ? 0 : 1) || a.name.localeCompare(b.name));
    for (const colleague of colleagues) {
      const available = colleague.status === 'online' && colleague.connected;
      box.append(h('label', { class: `choice${available ? '' : ' is-disabled'}` },
        h('input', { type: 'radio', name: 'transfer-to', value: colleague.id, disabled: !available }),
        h('span', {},
          h('strong', {}, colleague.name),
          h('small', {}, h('span', { class: `status-dot status-${available ? 'online' : colleague.status}`, 'aria-hidden': 'true' }),
            available ? 'Online' : (colleague.connected ? STATUS_LABEL[colleague.status] : 'Not connected')))));
    }
    box.append(h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'transfer-to', value: '', checked: true }),
      h('span', {}, h('strong', {}, 'Back to the queue'), h('small', {}, 'The next free agent takes it; it goes to the front.'))));
    showError('transfer-error', '');
    dialog.showModal();
  };
}

export function setupClose({ call, done }) {
  const dialog = $('close-dialog');
  wireCancel(dialog);
  const fields = $('complaint-fields');
  dialog.addEventListener('change', (event) => {
    if (event.target.name === 'outcome') fields.hidden = event.target.value !== 'complaint';
  });
  $('close-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const outcome = dialog.querySelector('input[name="outcome"]:checked').value;
    const payload = { conversation_id: state.selected, outcome };
    if (outcome === 'complaint') {
      const category = $('close-category').value;
      const summary = $('close-summary').value.trim();
      if (!summary) {
        showError('close-error', 'Write a short summary for the complaint team.', $('close-summary'));
        $('close-summary').focus();
        return;
      }
      payload.category = category;
      payload.summary = summary;
    }
    const button = $('close-submit');
    button.disabled = true;
    const ack = await call('chat:close', payload);
    button.disabled = false;
    if (!ack.ok) {
      showError('close-error', ack.error.message);
      return;
    }
    dialog.close();
    done(ack);
  });
  return () => {
    const chat = state.chats.get(state.selected);
    const select = clear($('close-category'));
    for (const category of state.categories.filter((c) => c.active)) {
      select.append(h('option', { value: category.slug, selected: chat && chat.conversation.topic === category.slug }, category.name));
    }
    dialog.querySelector('input[value="resolved"]').checked = true;
    fields.hidden = true;
    $('close-summary').value = '';
    showError('close-error', '');
    dialog.showModal();
  };
}

// The supervisor's actions. Each opens a dialog (the confirmation, and where its error shows),
// sends one acknowledged event, and closes on success; the next snapshot shows the result.
import { $, h, clear, isolate } from './dom.js';
import { state, agentById, locate } from './state.js';
import { call } from './connection.js';
import { customerLabel, STATUS_LABEL } from './format.js';
import { showAgentError } from './agents.js';
import { renderRisk } from './risk.js';

const LEVEL_OF_ROLE = { agent: 1, supervisor: 2, admin: 3 };
const LEVEL_NAMES = { 1: 'Agents', 2: 'Supervisors', 3: 'Management' };

export function toast(text, kind = 'info') {
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : null }, text);
  $('toasts').append(el);
  while ($('toasts').children.length > 3) $('toasts').firstElementChild.remove();
  setTimeout(() => el.classList.add('is-leaving'), 3800);
  setTimeout(() => el.remove(), 4200);
}

export function setupDialogs() {
  for (const dialog of document.querySelectorAll('dialog.dialog')) {
    for (const button of dialog.querySelectorAll('[data-close]')) button.addEventListener('click', () => dialog.close());
  }
  $('agent-choices').addEventListener('change', updateForce);
}

/** Open `dialog`; on submit run `send` (an ack, or {error} before sending) and close on success. */
function run(dialog, send, done) {
  const form = dialog.querySelector('form');
  const error = form.querySelector('.form-error');
  const submit = form.querySelector('[type=submit]');
  error.hidden = true;
  submit.disabled = false;
  form.onsubmit = async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    const ack = await send();
    submit.disabled = false;
    if (ack.ok) {
      dialog.close();
      if (done) done(ack);
      return;
    }
    error.replaceChildren(...[ack.error.message].flat());
    error.hidden = false;
  };
  dialog.showModal();
}

function chatName(conversationId) {
  const where = locate(conversationId);
  return customerLabel(where?.entry?.customer_name ?? where?.chat?.customer_name);
}

// -- chats: assign, move, take over -------------------------------------------------------------

function whyNot(agent) {
  if (!agent.connected) return 'No console open';
  if (agent.status === 'offline') return 'Offline';
  return null;
}

function agentChoices(exclude) {
  const box = clear($('agent-choices'));
  box.append(h('legend', { class: 'sr-only' }, 'Agent'));
  const agents = [...state.live.agents].filter((a) => a.id !== exclude)
    .sort((a, b) => Boolean(whyNot(a)) - Boolean(whyNot(b)) || (a.active / (a.max_chats || 1)) - (b.active / (b.max_chats || 1)) || a.name.localeCompare(b.name));
  for (const agent of agents) {
    const blocked = whyNot(agent);
    const full = agent.active >= agent.max_chats;
    const notes = [`${agent.active} of ${agent.max_chats} chats`];
    if (blocked) notes.push(blocked);
    else if (agent.status === 'away') notes.push('routing skips them while away');
    if (!blocked && full) notes.push('At capacity');
    box.append(h('label', { class: `choice${blocked ? ' is-disabled' : ''}`, dataset: { agentId: agent.id } },
      h('input', { type: 'radio', name: 'agent', value: agent.id, disabled: Boolean(blocked), dataset: { full: full ? '1' : '' } }),
      h('span', {},
        h('strong', {}, agent.name, agent.id === state.me.id ? ' (you)' : ''),
        h('small', {}, h('span', { class: `status-dot status-${agent.status}`, 'aria-hidden': 'true' }), STATUS_LABEL[agent.status], ' · ', notes.join(' · ')))));
  }
  $('agent-force-row').hidden = true;
  $('agent-force').checked = false;
}

function chosenAgent() {
  const input = $('agent-choices').querySelector('input:checked');
  return input ? agentById(input.value) : null;
}

function updateForce() {
  const agent = chosenAgent();
  const full = agent && agent.active >= agent.max_chats;
  $('agent-force-row').hidden = !full;
  if (full) $('agent-force-text').textContent = `Go beyond ${agent.name}'s capacity: ${agent.active + 1} of ${agent.max_chats} chats.`;
  else $('agent-force').checked = false;
}

function placeChat(conversationId, mode) {
  if (!state.live) return;
  const where = locate(conversationId);
  const name = chatName(conversationId);
  const moving = mode === 'move';
  $('agent-title').replaceChildren(moving ? 'Move the chat with ' : 'Assign the chat with ', isolate(name));
  $('agent-hint').replaceChildren(...(moving
    ? [isolate(where?.agent?.name || 'The agent'), ' loses the chat; it opens in the new agent\'s console with the whole conversation.']
    : ['Pick anyone with a console open, even if routing would not have picked them. Capacity holds unless you go beyond it on purpose.']));
  $('agent-submit').textContent = moving ? 'Move' : 'Assign';
  const from = moving ? where?.agent?.id : null; // who had it when the dialog opened: a move meanwhile is a conflict
  agentChoices(from);
  run($('agent-dialog'), () => {
    const agent = chosenAgent();
    if (!agent) return { ok: false, error: { message: 'Choose an agent.' } };
    const force = agent.active >= agent.max_chats;
    if (force && !$('agent-force').checked) {
      return { ok: false, error: { message: [isolate(agent.name), ' is at capacity. Tick the box to assign anyway.'] } };
    }
    const payload = moving
      ? { conversation_id: conversationId, to_agent_id: agent.id, ...(from ? { from_agent_id: from } : {}) }
      : { conversation_id: conversationId, agent_id: agent.id };
    return call(moving ? 'chat:move' : 'chat:assign', { ...payload, force });
  }, () => toast([`${moving ? 'Moved' : 'Assigned'} the chat with `, isolate(name), ' to ', isolate(chosenAgent()?.name || 'the agent'), '.']));
}

export const assignChat = (conversationId) => placeChat(conversationId, 'assign');
export const moveChat = (conversationId) => placeChat(conversationId, 'move');

export function takeOver(conversationId) {
  if (!state.live) return;
  const where = locate(conversationId);
  const name = chatName(conversationId);
  const me = agentById(state.me.id);
  $('confirm-title').replaceChildren('Take over the chat with ', isolate(name), '?');
  const text = clear($('confirm-text'));
  text.append(...(where?.status === 'active'
    ? [isolate(where.agent.name), ' loses the chat. It opens in your console with the whole conversation, and the customer sees you as their agent.']
    : ['It leaves the queue and opens in your console.']));
  if (me && !me.connected) {
    text.append(' ', h('strong', {}, 'Your console is not open: '), h('a', { href: '/console', target: '_blank', rel: 'noopener' }, 'open it in a new tab'), ' first.');
  }
  const full = me && me.active >= me.max_chats;
  $('confirm-force-row').hidden = !full;
  $('confirm-force').checked = false;
  if (full) $('confirm-force-text').textContent = `You are at capacity: take it as chat ${me.active + 1} of ${me.max_chats}.`;
  $('confirm-submit').textContent = 'Take over';
  $('confirm-submit').className = 'btn btn-primary';
  // where it was when the dialog opened (an agent, or null: waiting): a move or assignment meanwhile is a conflict
  const seen = where ? { from_agent_id: where.status === 'active' ? where.agent.id : null } : {};
  run($('confirm-dialog'), () => {
    if (full && !$('confirm-force').checked) return { ok: false, error: { message: 'You are at capacity. Tick the box to take it anyway.' } };
    return call('chat:takeover', { conversation_id: conversationId, force: Boolean(full), ...seen });
  }, () => toast(['The chat with ', isolate(name), ' is yours: it is in your console.']));
}

// -- agents --------------------------------------------------------------------------------------

export async function setStatus(agent, status) {
  if (status === 'offline') {
    $('confirm-title').replaceChildren('Set ', isolate(agent.name), ' offline?');
    const text = clear($('confirm-text'));
    text.append(agent.active
      ? `Their ${agent.active} open chat${agent.active === 1 ? '' : 's'} go back to the front of the queue for colleagues, and routing sends them nothing new.`
      : 'Routing sends them nothing new until they go online again.');
    $('confirm-force-row').hidden = true;
    $('confirm-submit').textContent = 'Set offline';
    $('confirm-submit').className = 'btn btn-danger';
    run($('confirm-dialog'), () => call('agent:set_status', { agent_id: agent.id, status }),
      () => toast([isolate(agent.name), ' is offline.']));
    return;
  }
  showAgentError(agent.id, null);
  const ack = await call('agent:set_status', { agent_id: agent.id, status });
  if (ack.ok) toast([isolate(agent.name), ` is ${STATUS_LABEL[status].toLowerCase()}.`]);
  else showAgentError(agent.id, ack.error.message);
}

// -- complaints ------------------------------------------------------------------------------------

function applyComplaint(item, complaint) {
  // show the change at once; the next figures bring the new due times
  item.level = complaint.level;
  item.assignee = complaint.assignee;
  item.status = complaint.status;
  renderRisk();
}

export function escalateComplaint(item) {
  // the level the dialog promises to raise it from, kept even if the list updates meanwhile
  const from = item.level;
  const next = Math.min(3, from + 1);
  $('escalate-title').textContent = `Escalate ${item.reference}`;
  $('escalate-hint').textContent = `From level ${from} to level ${next} (${LEVEL_NAMES[next]}). It leaves its current assignee, and the new owners are told by e-mail.`;
  const reason = $('escalate-reason');
  reason.value = '';
  run($('escalate-dialog'), () => {
    if (!reason.value.trim()) return { ok: false, error: { message: 'Say why the next level needs to take this over.' } };
    return call('complaint:escalate', { reference: item.reference, reason: reason.value.trim(), from_level: from });
  }, (ack) => {
    applyComplaint(item, ack.complaint);
    toast(`${item.reference} is at level ${ack.complaint.level} now.`);
  });
  reason.focus();
}

export function assignComplaint(item) {
  $('cx-assign-title').textContent = `Assign ${item.reference}`;
  $('cx-assign-hint').textContent = `Level ${item.level}: only staff who handle level ${item.level} can hold it.`;
  const box = clear($('cx-assign-choices'));
  box.append(h('legend', { class: 'sr-only' }, 'Assign to'));
  const current = item.assignee?.id || '';
  const staff = [...(state.live?.agents || [])].filter((a) => LEVEL_OF_ROLE[a.role] >= item.level).sort((a, b) => a.name.localeCompare(b.name));
  const option = (value, title, note) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: 'assignee', value, checked: value === current }),
    h('span', {}, h('strong', {}, title), note ? h('small', {}, note) : null));
  box.append(option('', 'Nobody', 'Back to the owner group'));
  for (const person of staff) {
    box.append(option(person.id, person.name + (person.id === state.me.id ? ' (you)' : ''),
      `${person.role[0].toUpperCase()}${person.role.slice(1)} · ${STATUS_LABEL[person.status]}`));
  }
  run($('cx-assign-dialog'), () => {
    const chosen = box.querySelector('input:checked');
    if (!chosen) return { ok: false, error: { message: 'Choose someone, or Nobody.' } };
    return call('complaint:assign', { reference: item.reference, assignee_id: chosen.value || null, from_assignee_id: current || null });
  }, (ack) => {
    applyComplaint(item, ack.complaint);
    toast(ack.complaint.assignee ? [`${item.reference} is with `, isolate(ack.complaint.assignee.name), '.'] : `${item.reference} is unassigned.`);
  });
}

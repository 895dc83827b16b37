// The agent board: presence and for how long, load against capacity, idle time, and their chats.
import { $, h, clear, icon, initials } from './dom.js';
import { state } from './state.js';
import { categoryName, customerLabel, STATUS_LABEL } from './format.js';
import { openDrawer } from './drawer.js';
import { setStatus } from './dialogs.js';
import { since } from './ticker.js';

const ORDER = { online: 0, away: 1, offline: 2 };
const ROLE = { agent: 'Agent', supervisor: 'Supervisor', admin: 'Admin' };
const DOTS = ['M12 7.2a1.6 1.6 0 1 0 0-3.2 1.6 1.6 0 0 0 0 3.2z', 'M12 13.6a1.6 1.6 0 1 0 0-3.2 1.6 1.6 0 0 0 0 3.2z', 'M12 20a1.6 1.6 0 1 0 0-3.2 1.6 1.6 0 0 0 0 3.2z'];
// the menu stays open across re-renders: remember which one is open
let openMenu = null;
const errors = new Map();

export function showAgentError(agentId, message) {
  if (message) errors.set(agentId, message);
  else errors.delete(agentId);
  renderAgents();
}

function rank(agent) {
  // present people first: online with a console, then away, then the rest
  const present = agent.connected ? 0 : 3;
  return present + ORDER[agent.status];
}

export function renderAgents() {
  const agents = [...(state.live?.agents || [])].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  const list = clear($('agents'));
  const here = agents.filter((a) => a.connected).length;
  $('agents-count').textContent = agents.length;
  $('agents-summary').textContent = `${here} with a console open`;
  for (const agent of agents) list.append(card(agent));
}

function card(agent) {
  const full = agent.active >= agent.max_chats;
  const load = agent.max_chats ? Math.min(1, agent.active / agent.max_chats) : 1;
  const bar = h('span', { class: 'load-fill' });
  bar.style.width = `${Math.round(load * 100)}%`;
  const status = agent.connected || agent.status === 'offline' ? agent.status : 'disconnected';
  const menu = h('details', { class: 'menu', open: openMenu === agent.id, ontoggle: (e) => {
    if (e.target.open) openMenu = agent.id;
    else if (openMenu === agent.id) openMenu = null;
  } },
    h('summary', { class: 'menu-button', title: 'Set status', 'aria-label': `Set ${agent.name}'s status` }, icon(DOTS, { fill: true })),
    h('div', { class: 'menu-list', role: 'menu' },
      ...['online', 'away', 'offline'].map((s) => h('button', {
        type: 'button', role: 'menuitemradio', 'aria-checked': String(agent.status === s), disabled: agent.status === s,
        dataset: { status: s },
        onclick: () => { openMenu = null; setStatus(agent, s); },
      }, h('span', { class: `status-dot status-${s}`, 'aria-hidden': 'true' }), s === 'offline' ? 'Offline…' : STATUS_LABEL[s]))));
  const error = errors.get(agent.id);
  return h('li', { class: `agent-card is-${status}${full ? ' is-full' : ''}`, dataset: { agentId: agent.id } },
    h('div', { class: 'agent-head' },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(agent.name)),
      h('div', { class: 'agent-who' },
        h('strong', { class: 'agent-name' }, agent.name, agent.id === state.me.id ? [' ', h('span', { class: 'you' }, '(you)')] : null),
        h('span', { class: 'agent-status' },
          h('span', { class: `status-dot status-${agent.status}`, 'aria-hidden': 'true' }),
          h('span', { class: 'agent-status-text' }, STATUS_LABEL[agent.status]),
          agent.status_since ? [' for ', since(agent.status_since, { short: true })] : null,
          agent.role !== 'agent' ? h('span', { class: 'tag' }, ROLE[agent.role] || agent.role) : null)),
      menu),
    h('div', { class: 'load', title: `${agent.active} of ${agent.max_chats} chats` },
      h('span', { class: 'load-bar', 'aria-hidden': 'true' }, bar),
      h('span', { class: 'load-text' }, `${agent.active} / ${agent.max_chats}`, full ? h('span', { class: 'tag tag-warn' }, 'Full') : null)),
    h('p', { class: 'agent-meta' },
      agent.connected ? h('span', { class: 'console-on' }, 'Console open') : h('span', { class: 'console-off' }, 'No console open'),
      ' · ',
      agent.last_activity_at ? ['Idle ', since(agent.last_activity_at, { short: true })] : 'No activity yet'),
    agent.chats.length ? h('ul', { class: 'agent-chats', 'aria-label': `${agent.name}'s chats` },
      ...agent.chats.map((chat) => h('li', {},
        h('button', { type: 'button', class: 'agent-chat', dataset: { conversationId: chat.conversation_id }, onclick: () => openDrawer(chat.conversation_id) },
          h('span', { class: 'agent-chat-name' }, customerLabel(chat.customer_name)),
          chat.customer_away_since ? h('span', { class: 'tag tag-muted', title: 'The customer has no chat window open' }, 'Left') : null,
          h('span', { class: 'agent-chat-topic' }, categoryName(chat.topic)),
          since(chat.assigned_at, { short: true, className: 'agent-chat-time' }))))) : null,
    error ? h('p', { class: 'card-error', role: 'alert' }, error) : null,
  );
}

// a click elsewhere closes an open status menu
document.addEventListener('click', (event) => {
  if (openMenu && !event.target.closest('.menu')) {
    openMenu = null;
    for (const menu of document.querySelectorAll('#agents details.menu[open]')) menu.open = false;
  }
});

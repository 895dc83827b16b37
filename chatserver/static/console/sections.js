// Chats or Complaints: tabs in the bar. The address keeps the place (#complaints/C-2026-000001),
// so a reload, a link or the browser's back button lands where the agent was.
import { $ } from './dom.js';

const COMPLAINTS = /^#complaints(?:\/(.+))?$/;
let chatsUnread = 0;

export function complaintsHash(reference) {
  return reference ? `#complaints/${encodeURIComponent(reference)}` : '#complaints';
}

export function setupSections({ enterComplaints }) {
  const app = $('app');
  const tabs = [...$('sections').querySelectorAll('[role="tab"]')];
  let lastComplaints = '#complaints';

  function route() {
    const match = COMPLAINTS.exec(window.location.hash);
    const section = match ? 'complaints' : 'chats';
    app.dataset.section = section;
    $('chats-section').hidden = section !== 'chats';
    $('complaints').hidden = section !== 'complaints';
    for (const tab of tabs) {
      const on = tab.dataset.section === section;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
    }
    paintChats();
    if (match) {
      lastComplaints = window.location.hash;
      enterComplaints(match[1] ? decodeURIComponent(match[1]) : null);
    }
  }

  function go(section) {
    if (section === app.dataset.section) return;
    if (section === 'complaints') window.location.hash = lastComplaints;
    else {
      window.history.pushState(null, '', window.location.pathname + window.location.search);
      route();
    }
  }

  for (const tab of tabs) tab.addEventListener('click', () => go(tab.dataset.section));
  $('sections').addEventListener('keydown', (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const index = tabs.indexOf(document.activeElement);
    const next = tabs[(index + step + tabs.length) % tabs.length];
    next.focus();
    go(next.dataset.section);
  });
  window.addEventListener('hashchange', route);
  window.addEventListener('popstate', route);
  route();
}

/** Unread chat messages on the Chats tab while the agent works on complaints. */
export function setChatsUnread(count) {
  chatsUnread = count;
  paintChats();
}

function paintChats() {
  const badge = $('chats-badge');
  const show = chatsUnread > 0 && $('app').dataset.section !== 'chats';
  badge.hidden = !show;
  badge.textContent = String(chatsUnread);
  badge.setAttribute('aria-label', `${chatsUnread} unread`);
}

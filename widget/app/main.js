// The chat app inside the widget's iframe: boot, the bridge to the host page, tabs and the connection.
import { $ } from './dom.js';
import { LOCALES, setCatalog, currentLocale, loadCatalog, translate, t } from './i18n.js';
import { storage } from './storage.js';
import { Connection } from './connection.js';
import { Chat } from './chat.js';
import { Help } from './help.js';
import { Complaints } from './complaints.js';

const boot = JSON.parse($('boot').textContent);
let config = boot.config;
const getConfig = () => config;

setCatalog(boot.locale, boot.catalog);
applyColor(boot.color);

// -- the host page: only our parent, only from the origin that embedded us -----------------------

const standalone = window.parent === window;
const hostOrigin = standalone ? null : ((location.ancestorOrigins && location.ancestorOrigins[0]) || boot.host);
const host = { open: standalone, unread: 0, initialised: standalone };
document.body.classList.toggle('standalone', standalone);

function toHost(message) {
  if (!standalone && hostOrigin) window.parent.postMessage({ chatserver: 1, ...message }, hostOrigin);
}

function visible() {
  return host.open && document.visibilityState === 'visible';
}

function setUnread(count) {
  host.unread = count;
  toHost({ type: 'unread', count });
}

function validIdentity(identity) {
  if (!identity || typeof identity !== 'object' || !identity.external_id || !identity.signature) return null;
  const clean = { external_id: String(identity.external_id), expires: Number(identity.expires), signature: String(identity.signature) };
  if (identity.name) clean.name = String(identity.name);
  if (identity.email) clean.email = String(identity.email);
  return clean;
}

function adoptIdentity(identity) {
  const next = validIdentity(identity);
  const changed = JSON.stringify(next) !== JSON.stringify(conn.identity);
  conn.identity = next;
  if (!next && storage.identified) storage.forgetCustomer(); // signed out on the host: not that person any more
  return changed;
}

window.addEventListener('message', (event) => {
  if (standalone || event.source !== window.parent || event.origin !== hostOrigin) return;
  const data = event.data;
  if (!data || data.chatserver !== 1) return;
  if (data.type === 'init') {
    adoptIdentity(data.identity);
    host.initialised = true;
    if (data.locale) switchLocale(data.locale);
    if (data.open) opened();
    connectIfKnown();
  } else if (data.type === 'open') {
    opened();
  } else if (data.type === 'close') {
    host.open = false;
  } else if (data.type === 'locale') {
    switchLocale(data.locale);
  } else if (data.type === 'identify') {
    if (adoptIdentity(data.identity) && conn.socket) {
      chat.newChat();
      conn.restart();
    } else {
      connectIfKnown();
    }
  }
});

function opened() {
  host.open = true;
  if (host.unread) setUnread(0);
  conn.start();
  refreshConfig();
  focusCurrent();
}

// A returning customer (or one the host identified) connects at once, for unread counts;
// a first-time visitor only when they open the chat, so page views do not create customers.
function connectIfKnown() {
  if (conn.identity || (storage.token && !storage.identified)) conn.start();
}

document.addEventListener('visibilitychange', () => { if (visible() && host.unread) setUnread(0); });
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !standalone && !event.defaultPrevented) toHost({ type: 'close' });
});
$('minimise').addEventListener('click', () => toHost({ type: 'close' }));

// -- the connection --------------------------------------------------------------------------------

let sessionSeen = false;
let sessionWaiters = [];

function whenSession(timeoutMs = 8000) {
  if (sessionSeen && conn.connected) return Promise.resolve();
  return new Promise((resolve) => {
    sessionWaiters.push(resolve);
    setTimeout(resolve, timeoutMs); // the call after it then answers "offline"
  });
}

const conn = new Connection({ locale: boot.locale, onStatus: showConnection });
conn.on('session', async (session) => {
  storage.token = session.token;
  storage.identified = Boolean(conn.identity);
  sessionSeen = true;
  sessionWaiters.splice(0).forEach((resolve) => resolve());
  complaints.onSession();
  await chat.onSession(session);
});

function showConnection(status) {
  if (status !== 'online') sessionSeen = false;
  const banner = $('banner');
  if (status === 'reconnecting') {
    $('banner-text').textContent = navigator.onLine === false ? t('conn.offline') : t('conn.reconnecting');
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
}
window.addEventListener('offline', () => { if (conn.socket) showConnection('reconnecting'); });

// -- tabs ------------------------------------------------------------------------------------------

const TABS = ['chat', 'help', 'complaints'];
let currentTab = 'chat';

function showTab(name, options = {}) {
  currentTab = name;
  // a control in the view being left (a link to another tab) must not take the focus with it
  const leaving = document.activeElement && document.activeElement.closest('.view');
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    button.setAttribute('aria-selected', String(tab === name));
    button.tabIndex = tab === name ? 0 : -1;
    $(`view-${tab}`).hidden = tab !== name;
  }
  if (name === 'chat') $('tab-chat-badge').hidden = true;
  if (name === 'help' && !options.article) help.render();
  if (name === 'complaints') complaints.show(options);
  const lost = leaving && leaving.hidden && (document.activeElement === document.body || leaving.contains(document.activeElement));
  if (options.focusTab || lost) $(`tab-${name}`).focus();
}

for (const tab of TABS) $(`tab-${tab}`).addEventListener('click', () => showTab(tab));
document.querySelector('.tabs').addEventListener('keydown', (event) => {
  const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
  if (!step) return;
  event.preventDefault();
  showTab(TABS[(TABS.indexOf(currentTab) + step + TABS.length) % TABS.length], { focusTab: true });
});

function focusCurrent() {
  // on touch screens focusing an input pops the keyboard over the conversation: let the customer tap
  if (currentTab !== 'chat' || !window.matchMedia('(pointer: fine)').matches) return;
  const target = chat.conversation ? $('composer-input') : $('start-body');
  if (target && !target.closest('[hidden]')) target.focus({ preventScroll: true });
}

// -- language --------------------------------------------------------------------------------------

async function refreshConfig() {
  try {
    const response = await fetch(`/widget/config?locale=${currentLocale()}`, { credentials: 'omit' });
    if (response.ok) {
      config = await response.json();
      renderHead();
      if (!chat.conversation) chat.render();
    }
  } catch {
    // keep what we have
  }
}

async function switchLocale(next) {
  if (!LOCALES.includes(next) || next === currentLocale()) return;
  const [catalog] = await Promise.all([loadCatalog(next)]);
  setCatalog(next, catalog);
  await refreshConfig();
  renderAll();
  conn.locale = next;
  if (conn.socket) conn.restart();
}

function renderHead() {
  $('online-dot').classList.toggle('is-online', Boolean(config.online));
  $('head-status').textContent = config.online ? t('head.online') : t('head.offline');
}

function renderAll() {
  translate();
  renderHead();
  chat.retranslate();
  help.render();
  complaints.retranslate();
}

function applyColor(color) {
  const root = document.documentElement.style;
  root.setProperty('--brand', color);
  root.setProperty('--brand-ink', inkFor(color));
}

function inkFor(hex) {
  let h = hex.slice(1);
  if (h.length === 3) h = h.replace(/./g, '$&$&');
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 ? '#111827' : '#ffffff';
}

// -- start -----------------------------------------------------------------------------------------

const help = new Help({ getConfig, askInChat: () => { showTab('chat'); focusCurrent(); } });
const chat = new Chat({
  conn,
  getConfig,
  whenSession,
  showTab,
  openArticle: (id) => { showTab('help', { article: true }); help.open(id); },
  onAgentMessage: () => {
    if (!visible()) setUnread(host.unread + 1);
    if (currentTab !== 'chat') $('tab-chat-badge').hidden = false;
  },
});
const complaints = new Complaints({ conn, getConfig, whenSession });

renderAll();
document.body.classList.add('is-ready');
if (standalone) {
  conn.start();
} else {
  toHost({ type: 'ready' });
  // a host page that never answers (loader blocked half-way) still gets a working widget
  setTimeout(() => { if (!host.initialised) connectIfKnown(); }, 2000);
}

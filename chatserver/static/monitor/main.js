// The queue monitor: everything arrives by push on the /monitor socket; nothing polls.
// monitor:snapshot (queue, agents, load) follows every change; monitor:floor (today's counters,
// complaints at risk, the charts) follows whenever the server recomputed and something changed.
import { $, initials } from './dom.js';
import { socket } from './connection.js';
import { state } from './state.js';
import { renderKpis } from './kpis.js';
import { renderQueue } from './queue.js';
import { renderAgents } from './agents.js';
import { renderRisk, setupRisk } from './risk.js';
import { renderCharts } from './charts.js';
import { setupDrawer, refreshDrawer } from './drawer.js';
import { setupDialogs } from './dialogs.js';
import { tick } from './ticker.js';

const app = $('app');
state.me = { id: app.dataset.userId, name: app.dataset.userName, role: app.dataset.userRole };
$('me-avatar').textContent = initials(state.me.name);

function setLive(connected) {
  $('live').dataset.state = connected ? 'live' : 'reconnecting';
  $('live-text').textContent = connected ? 'Live' : 'Reconnecting…';
  $('banner').hidden = connected;
}

socket.on('connect', () => setLive(true));
socket.on('disconnect', (reason) => {
  if (reason !== 'io client disconnect') setLive(false);
  if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 800); // a logout elsewhere answers unauthorized
});
socket.on('connect_error', (err) => {
  const code = err && err.data && err.data.code;
  if (code === 'unauthorized') window.location.assign('/login?next=/monitor');
  else setLive(false);
  // socket.io-client never retries a refusal by itself; these pass within seconds
  if (['rate_limited', 'unavailable', 'internal'].includes(code)) setTimeout(() => socket.connect(), 2000 + Math.random() * 3000);
});

socket.on('monitor:snapshot', (snapshot) => {
  state.live = snapshot;
  state.clockOffset = Date.now() - Date.parse(snapshot.at);
  renderLive();
});

socket.on('monitor:floor', (figures) => {
  state.floor = figures;
  renderFloor();
});

function renderLive() {
  renderKpis();
  renderQueue();
  renderAgents();
  refreshDrawer();
}

function renderFloor() {
  renderKpis();
  renderRisk();
  renderCharts();
  // category names come with the figures
  renderQueue();
  renderAgents();
  refreshDrawer();
}

setupDrawer();
setupDialogs();
setupRisk();
// the clocks on screen (waits, idle time, due times) move every second between pushes
setInterval(tick, 1000);

// The counters across the top: right now (from the live snapshot) and today (from the figures).
import { $, h, clear } from './dom.js';
import { state } from './state.js';
import { duration, percent } from './format.js';
import { since } from './ticker.js';

function set(id, text) {
  $(id).textContent = text;
}

export function renderKpis() {
  const live = state.live;
  if (live) {
    const { stats } = live;
    set('k-queued', stats.queued);
    // the longest wait may be further back than the listed front of the queue
    const oldest = stats.queued ? new Date(Date.parse(live.at) - stats.longest_wait_seconds * 1000).toISOString() : null;
    const longest = $('k-longest');
    clear(longest);
    if (oldest) longest.append('Longest ', since(oldest, { wait: true, className: 'wait' }));
    else longest.append('Nobody is waiting');
    $('kpi-waiting').classList.toggle('is-busy', stats.queued > 0 && stats.free_seats === 0);
    set('k-online', stats.agents_online);
    const away = stats.agents_away ? ` · ${stats.agents_away} away` : '';
    set('k-seats', `${stats.free_seats} of ${stats.seats} seats free${away}`);
  }
  const today = state.floor?.today;
  if (today) {
    set('k-started', today.chats_started);
    set('k-chats-sub', `${today.answered} answered · ${today.abandoned} abandoned · ${today.unanswered} unanswered`);
    set('k-wait', duration(today.avg_wait_seconds));
    set('k-first', `First response ${duration(today.avg_first_response_seconds)}`);
    set('k-csat', percent(today.csat_share));
    set('k-csat-sub', today.ratings
      ? `★ ${today.csat_average.toFixed(1)} average · ${today.ratings} rating${today.ratings === 1 ? '' : 's'}`
      : 'No ratings yet today');
    set('k-complaints', today.complaints_created);
    const risk = state.floor.complaints;
    const sub = $('k-complaints-sub');
    clear(sub);
    sub.append(
      'Open now: ',
      h('span', { class: risk.breached_total ? 'kpi-alert' : '' }, `${risk.breached_total} breached`),
      ' · ',
      h('span', { class: risk.at_risk_total ? 'kpi-warn' : '' }, `${risk.at_risk_total} at risk`),
    );
  }
}

// Clocks on screen. An element made by since() shows the time elapsed since an ISO time, one made
// by due() "due in …" or "… overdue"; tick() moves them all every second between pushes.
import { h } from './dom.js';
import { duration, shortDuration, secondsSince } from './format.js';

const WAIT_WARN = 120; // seconds: a wait turns amber
const WAIT_ALERT = 300; // ... and red

function showSince(el) {
  const seconds = secondsSince(el.dataset.since);
  el.textContent = el.dataset.format === 'short' ? shortDuration(seconds) : duration(seconds);
  if (el.dataset.wait !== undefined) {
    el.classList.toggle('is-warn', seconds >= WAIT_WARN && seconds < WAIT_ALERT);
    el.classList.toggle('is-alert', seconds >= WAIT_ALERT);
  }
}

function showDue(el) {
  const late = secondsSince(el.dataset.due);
  el.textContent = late >= 0 ? `${shortDuration(late)} overdue` : `due in ${shortDuration(-late)}`;
}

/** A span counting up from `isoTime`; `wait` colours long waits, `short` drops the seconds. */
export function since(isoTime, { short = false, wait = false, className = '' } = {}) {
  const el = h('span', { class: className || null, dataset: { since: isoTime, format: short ? 'short' : 'long' } });
  if (wait) el.dataset.wait = '';
  showSince(el);
  return el;
}

export function due(isoTime) {
  const el = h('span', { dataset: { due: isoTime } });
  showDue(el);
  return el;
}

export function tick() {
  for (const el of document.querySelectorAll('[data-since]')) showSince(el);
  for (const el of document.querySelectorAll('[data-due]')) showDue(el);
}

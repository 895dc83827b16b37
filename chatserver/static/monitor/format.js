// Words and numbers for the monitor: durations, clock times, and what routing's codes mean.
import { state } from './state.js';

export const LANGUAGES = { en: 'English', ru: 'Russian', pl: 'Polish' };
export const STATUS_LABEL = { online: 'Online', away: 'Away', offline: 'Offline' };

/** Seconds as "45s", "3m 05s", "2h 14m", "3d 4h". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Coarser, for idle and time in status: "4m", "2h 10m". */
export function shortDuration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d`;
}

/** The server's "now", from the last snapshot's clock plus the time since it arrived. */
export function serverNow() {
  return Date.now() - state.clockOffset;
}

/** Seconds from an ISO time until the server's now (negative for the future). */
export function secondsSince(isoTime) {
  if (!isoTime) return null;
  return (serverNow() - Date.parse(isoTime)) / 1000;
}

export function clockTime(isoTime) {
  if (!isoTime) return '';
  return new Date(isoTime).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function dateTime(isoTime) {
  if (!isoTime) return '';
  return new Date(isoTime).toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export function shortDate(isoDate) {
  return new Date(`${isoDate}T00:00:00Z`).toLocaleDateString([], { day: 'numeric', month: 'short', timeZone: 'UTC' });
}

export function percent(share) {
  return share === null || share === undefined ? '—' : `${Math.round(share * 100)}%`;
}

export function categoryName(slug) {
  if (!slug) return 'No topic';
  return state.floor?.category_names?.[slug] || slug.replace(/_/g, ' ');
}

export function customerLabel(name) {
  return name && name.trim() ? name : 'Anonymous customer';
}

// why an agent was or was not chosen, as routing recorded it
export const REASONS = {
  chosen: 'Chosen',
  offline: 'Offline',
  away: 'Away',
  disconnected: 'No console open',
  at_capacity: 'At capacity',
  not_skilled_for_topic: 'Not skilled for this topic',
  language_mismatch: "Doesn't speak the customer's language",
  more_loaded: 'Busier than the winner',
  assigned_more_recently: 'Had a chat more recently',
};

export function ruleText(decision, conversation) {
  const by = decision.candidates.find((c) => c.by)?.by?.name || 'a supervisor';
  const language = LANGUAGES[conversation?.locale] || conversation?.locale || 'the customer\'s language';
  switch (decision.rule) {
    case 'language_match_least_loaded':
      return `Routing chose the least-loaded free agent who speaks ${language}; on a tie, whoever waited longest for a chat.`;
    case 'least_loaded':
      return `Nobody free speaks ${language}, so routing chose the least-loaded free agent.`;
    case 'no_eligible_agent':
      return 'Nobody could take the chat, so it waited in the queue.';
    case 'taken_by_hand':
      return 'The agent took the chat from the queue.';
    case 'transferred':
      return 'Transferred from the console.';
    case 'assigned_by_supervisor':
      return `Assigned by ${by} from the monitor.`;
    case 'moved_by_supervisor':
      return `Moved by ${by} from the monitor.`;
    case 'taken_over_by_supervisor':
      return `Taken over by ${by}.`;
    default:
      return decision.rule.replace(/_/g, ' ');
  }
}

// Words and numbers for complaints: labels, due times relative to now, dates and money.
import { ICONS } from '../dom.js';

export const STATUS = {
  new: 'New', in_progress: 'In progress', awaiting_customer: 'Awaiting customer',
  resolved: 'Resolved', closed: 'Closed', reopened: 'Reopened',
};
export const LEVEL = { 1: 'Agents', 2: 'Supervisors', 3: 'Management' };
export const SOURCE = {
  chat_unanswered: 'Chat nobody answered', chat_not_solved: 'Chat the customer marked unsolved',
  agent_closed: 'Chat closed as a complaint', form: 'Complaint form', agent_logged: 'Logged by staff',
};
export const CHANNEL = {
  chat: { label: 'Chat', icon: ICONS.chat },
  web_form: { label: 'Web form', icon: ICONS.doc },
  email: { label: 'E-mail', icon: ['M4 6h16v12H4z', 'M4 7l8 6 8-6'] },
  phone: { label: 'Phone', icon: 'M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2z' },
};
export const SETTLED = new Set(['resolved', 'closed']);

/** A mailto: link for one address a customer typed. Both halves are percent-encoded, so a `?cc=`,
 * `&body=` or `javascript:` in it stays part of one (odd) address: it cannot add recipients, a
 * subject or a body to the agent's e-mail, or become another kind of link. */
export function mailto(address) {
  const at = address.lastIndexOf('@');
  return `mailto:${encodeURIComponent(address.slice(0, at))}@${encodeURIComponent(address.slice(at + 1))}`;
}

const HOUR = 3600_000;
const SOON_MS = 2 * HOUR; // the server's default warning window

/** "3 h", "25 min", "2 d 4 h": a span a person reads at a glance. */
export function span(ms) {
  const minutes = Math.max(1, Math.round(Math.abs(ms) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest ? `${days} d ${rest} h` : `${days} d`;
}

/** What is owed and how urgent: tone is overdue, soon, ok or settled. */
export function dueState(complaint, now = Date.now()) {
  if (SETTLED.has(complaint.status) || !complaint.due_at) {
    const at = complaint.closed_at || complaint.resolved_at;
    return { tone: 'settled', text: at ? `${STATUS[complaint.status].toLowerCase()} ${ago(at, now)}` : STATUS[complaint.status] };
  }
  const left = Date.parse(complaint.due_at) - now;
  if (left < 0) return { tone: 'overdue', text: `overdue ${span(left)}` };
  return { tone: left <= SOON_MS ? 'soon' : 'ok', text: `due in ${span(left)}` };
}

/** One due time for the facts list: "12 Mar, 14:00 · in 3 h" or "… · 2 h overdue". */
export function dueFact(iso, now = Date.now()) {
  if (!iso) return null;
  const left = Date.parse(iso) - now;
  return { text: `${when(iso)} · ${left < 0 ? `${span(left)} overdue` : `in ${span(left)}`}`, overdue: left < 0 };
}

const dateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });

/** A date and time; the year only when it is not this year. */
export function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return (date.getFullYear() === new Date().getFullYear() ? dateFormat : fullFormat).format(date);
}

export function whenFull(iso) {
  return iso ? fullFormat.format(new Date(iso)) : '';
}

export function ago(iso, now = Date.now()) {
  const ms = now - Date.parse(iso);
  return ms < 60_000 ? 'just now' : `${span(ms)} ago`;
}

/** Minor units have as many digits as the currency has decimals (JPY none, EUR two). */
export function currencyDigits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

export function money(amountMinor, currency) {
  const digits = currencyDigits(currency);
  const amount = amountMinor / 10 ** digits;
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount);
  } catch {
    return `${amount.toFixed(digits)} ${currency}`;
  }
}

/** "12,50" or "12.5" to minor units; null when it is not a positive amount with the currency's decimals. */
export function toMinor(text, currency) {
  const digits = currencyDigits(currency);
  const cleaned = String(text).trim().replace(/\s/g, '').replace(',', '.');
  const pattern = digits ? new RegExp(`^\\d+(\\.\\d{1,${digits}})?$`) : /^\d+$/;
  if (!pattern.test(cleaned)) return null;
  const [whole, fraction = ''] = cleaned.split('.');
  const minor = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || 0);
  return minor > 0 && Number.isSafeInteger(minor) ? minor : null;
}

// Strings come from the catalogs in widget/i18n/*.json; nothing user-visible is written in code.
export const LOCALES = ['en', 'ru', 'pl'];

let locale = 'en';
let catalog = {};
let plural = new Intl.PluralRules('en');
let formatLocale = 'en';

export function setCatalog(nextLocale, nextCatalog) {
  locale = nextLocale;
  catalog = nextCatalog || {};
  plural = new Intl.PluralRules(locale);
  // dates and times follow the browser's regional variant of the chosen language (en-GB: 24-hour clock)
  formatLocale = (navigator.languages || []).find((tag) => tag.toLowerCase().split('-')[0] === locale) || locale;
  document.documentElement.lang = locale;
}

export function currentLocale() {
  return locale;
}

export async function loadCatalog(wanted) {
  const response = await fetch(`/widget/assets/i18n/${wanted}.json`, { credentials: 'omit' });
  if (!response.ok) throw new Error(`catalog ${wanted}: ${response.status}`);
  return response.json();
}

/** t('queue.position', {position: 3}); plural entries pick their form from `count`. */
export function t(key, vars = {}) {
  let entry = catalog[key];
  if (entry && typeof entry === 'object') {
    entry = entry[plural.select(Number(vars.count ?? 0))] ?? entry.other;
  }
  if (typeof entry !== 'string') return '';
  return entry.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
}

export function has(key) {
  return typeof catalog[key] === 'string' || typeof catalog[key] === 'object';
}

/** Fill every [data-i18n], [data-i18n-placeholder] and [data-i18n-aria] below `root`. */
export function translate(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
}

export function formatTime(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(formatLocale, { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

export function formatDate(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(formatLocale, { day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

export function formatDay(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(formatLocale, { day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(iso));
}

export function formatEta(seconds) {
  if (seconds === null || seconds === undefined) return t('queue.eta_unknown');
  if (seconds < 60) return t('queue.eta_soon');
  const minutes = Math.ceil(seconds / 60);
  return t('queue.eta', { count: minutes });
}

/** An amount in minor units (2500 EUR → €25.00), with the currency's own number of decimals. */
export function formatMoney(amountMinor, currency) {
  try {
    const format = new Intl.NumberFormat(formatLocale, { style: 'currency', currency });
    return format.format(amountMinor / 10 ** format.resolvedOptions().maximumFractionDigits);
  } catch {
    return `${amountMinor / 100} ${currency}`;
  }
}

// Building DOM from data: visitor text always goes in as text (textContent), never as HTML.
export { findLinks, linkify } from './links.js';

/** h('li', {class: 'msg', dataset: {seq: 3}, onclick: fn}, 'text', childNode, ...) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Someone's text (a name, a subject) inside a sentence of ours, as a <bdi>: the direction marks it
 * carries, an unclosed U+202E included, stay inside it instead of turning our words around. */
export function isolate(text) {
  return h('bdi', {}, text);
}

/** Make `el` look like `fresh` (a node just built for it) while keeping `el` and, where the shape is
 * unchanged, its descendants: attributes are copied, text nodes get the new text. A live region then
 * hears of what changed instead of being handed the whole element again. Listeners stay as they were. */
export function patch(el, fresh) {
  if (el.nodeType === Node.TEXT_NODE) {
    if (el.data !== fresh.data) el.data = fresh.data;
    return el;
  }
  for (const { name } of [...el.attributes]) if (!fresh.hasAttribute(name)) el.removeAttribute(name);
  for (const { name, value } of fresh.attributes) if (el.getAttribute(name) !== value) el.setAttribute(name, value);
  patchChildren(el, fresh);
  return el;
}

/** `el`'s children made like `fresh`'s: patched one by one when they match in number and kind, else replaced. */
export function patchChildren(el, fresh) {
  const now = [...el.childNodes];
  const next = [...fresh.childNodes];
  const alike = (a, b) => a.nodeType === b.nodeType && a.nodeName === b.nodeName
    && (a.nodeType === Node.TEXT_NODE || (a.nodeType === Node.ELEMENT_NODE && a.getAttribute('class') === b.getAttribute('class')));
  if (now.length !== next.length || now.some((node, i) => !alike(node, next[i]))) el.replaceChildren(...next);
  else now.forEach((node, i) => patch(node, next[i]));
  return el;
}

/** Sets `el`'s text only when it differs: setting the same text still swaps the text node, and a live
 * region reads a swapped node out again. */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export const $ = (id) => document.getElementById(id);

const SVG = 'http://www.w3.org/2000/svg';

/** A small stroked icon from path data. */
export function icon(paths, { fill = false, size = 24 } = {}) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('aria-hidden', 'true');
  for (const d of [].concat(paths)) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', fill ? 'currentColor' : 'none');
    if (!fill) {
      path.setAttribute('stroke', 'currentColor');
      path.setAttribute('stroke-width', '2');
      path.setAttribute('stroke-linecap', 'round');
      path.setAttribute('stroke-linejoin', 'round');
    }
    svg.appendChild(path);
  }
  return svg;
}

export const ICONS = {
  check: 'M5 12.5l4.5 4.5L19 7.5',
  clock: ['M12 7v5l3 2', 'M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0z'],
  star: 'M12 3.5l2.6 5.3 5.9.9-4.3 4.1 1 5.8L12 16.9l-5.2 2.7 1-5.8-4.3-4.1 5.9-.9z',
  shield: ['M12 3l8 3v6c0 4.5-3.4 8.3-8 9-4.6-.7-8-4.5-8-9V6z', 'M9 12l2 2 4-4'],
  doc: ['M7 3h7l5 5v13H7z', 'M14 3v5h5'],
  hourglass: ['M7 3h10M7 21h10', 'M8 3c0 5 8 5 8 9s-8 4-8 9', 'M16 3c0 5-8 5-8 9s8 4 8 9'],
  chevron: 'M9 6l6 6-6 6',
  external: ['M14 4h6v6', 'M20 4l-9 9', 'M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5'],
  lock: ['M6 11h12v9H6z', 'M8.5 11V8a3.5 3.5 0 0 1 7 0v3'],
  back: 'M15 5l-7 7 7 7',
  user: ['M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M4 21a8 8 0 0 1 16 0'],
  close: 'M6 6l12 12M18 6L6 18',
  inbox: ['M3 13h5l1.5 3h5L16 13h5', 'M5 5h14l2 8v6H3v-6z'],
  chat: 'M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z',
  verified: ['M12 3l2.4 1.8 3-.2.9 2.9 2.4 1.8-1 2.7 1 2.7-2.4 1.8-.9 2.9-3-.2L12 21l-2.4-1.8-3 .2-.9-2.9-2.4-1.8 1-2.7-1-2.7 2.4-1.8.9-2.9 3 .2z', 'M9 12l2 2 4-4'],
};

export function initials(name) {
  const parts = String(name || '').trim().split(/\s+/).filter(Boolean);
  return (parts[0]?.[0] || '?').toUpperCase() + (parts[1]?.[0] || '').toUpperCase();
}

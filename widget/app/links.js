// Web addresses in someone's text as links. The console imports this file too (through dom.js), and
// chatserver/domain/links.py applies the same rules on the server; tests/links_cases.py holds both to them.

// A candidate starts at http://, https:// or www. that does not continue a word, a path or another
// scheme ("javascript:https://…" stays text), and runs to whitespace, a character that never appears
// unescaped in an address, or an invisible formatting mark (bidi controls, zero-width characters).
const CANDIDATE = /(?<![\p{L}\p{N}_@./:\-+])(?:https?:\/\/|www\.)[^\s<>"`\p{Cc}\p{Cf}]+/giu;
// places where an address may start that are looked at in one text: people write a few
// (chatserver/domain/links.py's ADDRESSES_MAX, for the tracking page it renders on the server)
const ADDRESSES_MAX = 20;
const TRAILING = '.,;:!?\u201d\u2019\u00bb\u203a';
const CLOSERS = { ')': '(', ']': '[', '}': '{', "'": "'" };
const OPENERS = new Set(Object.values(CLOSERS));

/** Punctuation that ends the sentence, or a bracket or quote opened before the address, is not part of it. */
function trim(url) {
  // counted once and kept up to date as the end moves back: counting again for every character
  // taken off made an address ending in thousands of ")" quadratic
  const counts = {};
  for (const char of url) if (char in CLOSERS || OPENERS.has(char)) counts[char] = (counts[char] || 0) + 1;
  let end = url.length;
  while (end) {
    const last = url[end - 1];
    const opener = CLOSERS[last];
    const seen = (char) => counts[char] || 0;
    const unbalanced = opener && (opener === last ? seen(last) % 2 === 1 : seen(last) > seen(opener));
    if (!TRAILING.includes(last) && !unbalanced) break;
    end -= 1;
    if (counts[last]) counts[last] -= 1;
  }
  return url.slice(0, end);
}

/** The address to open for `written`, or null: only http(s), with a host and no user name or password. */
function target(written) {
  let url;
  try {
    url = new URL(/^www\./i.test(written) ? `https://${written}` : written);
  } catch {
    return null;
  }
  const web = url.protocol === 'http:' || url.protocol === 'https:';
  return web && url.hostname && !url.username && !url.password && !/^www\.?$/i.test(url.hostname) ? url.href : null;
}

/** Pure: `text` cut into pieces, each {text} or {text, href}; the pieces joined are `text` exactly.
 * Past the first ADDRESSES_MAX candidates the text stays plain. */
export function findLinks(text) {
  const pieces = [];
  let at = 0;
  let looked = 0;
  for (const match of String(text).matchAll(CANDIDATE)) {
    if (++looked > ADDRESSES_MAX) break;
    const written = trim(match[0]);
    const href = target(written);
    if (!href) continue;
    if (match.index > at) pieces.push({ text: text.slice(at, match.index) });
    pieces.push({ text: written, href });
    at = match.index + written.length;
  }
  if (at < String(text).length) pieces.push({ text: String(text).slice(at) });
  return pieces;
}

/** `text` as text nodes and <a> elements, for h(): the address reads exactly as written. */
export function linkify(text) {
  return findLinks(text).map(({ text: part, href }) => {
    if (!href) return document.createTextNode(part);
    const a = document.createElement('a');
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    a.dir = 'ltr'; // an isolate: an override left open before the address cannot turn it around
    a.className = 'text-link';
    a.textContent = part;
    return a;
  });
}

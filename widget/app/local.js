// This server's origin's localStorage, shared by the widget's iframe and the console: every access is
// guarded, as storage may be unavailable (privacy modes) or full.

const PREFIX = 'chatserver.';

// What storage refused (blocked in a third-party frame, or full): kept here for this page view, so
// that the customer's token and unsent messages outlive a lost connection. A removal is kept as null.
const memory = new Map();

export function read(key, fallback) {
  try {
    const raw = memory.has(PREFIX + key) ? memory.get(PREFIX + key) : localStorage.getItem(PREFIX + key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

/** True when it is kept in storage; false when storage is full or blocked (then it is kept in memory). */
export function write(key, value) {
  const raw = value === null || value === undefined ? null : JSON.stringify(value);
  try {
    if (raw === null) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, raw);
    memory.delete(PREFIX + key);
    return true;
  } catch {
    // storage full or blocked: the page still works, it just forgets across reloads
    memory.set(PREFIX + key, raw);
    return false;
  }
}

/** `callback` whenever another tab (of this origin) writes `key`: the browser tells every other tab. */
export function onChangeElsewhere(key, callback) {
  window.addEventListener('storage', (event) => { if (event.key === PREFIX + key) callback(); });
}

/** Entries kept one key each (`chatserver.` + `name` + id): the customer's other tabs (or an agent's
 *  other consoles) share this storage, and a shared list rewritten by two tabs at once keeps only one
 *  tab's entry, as another tab's copy may lag by a moment. Adding or removing one touches no other. */
export function keyedEntries(name) {
  const prefix = PREFIX + name;
  const ids = () => {
    const found = new Set();
    try {
      for (let i = 0; i < localStorage.length; i += 1) {
        const key = localStorage.key(i);
        if (key && key.startsWith(prefix)) found.add(key.slice(prefix.length));
      }
    } catch {
      // blocked: only what is kept in memory
    }
    for (const [key, raw] of memory) {
      if (!key.startsWith(prefix)) continue;
      if (raw === null) found.delete(key.slice(prefix.length));
      else found.add(key.slice(prefix.length));
    }
    return [...found];
  };
  return {
    /** Every entry, oldest `created_at` first. */
    all() {
      return ids().map((id) => read(name + id, null)).filter(Boolean)
        .sort((a, b) => (a.created_at > b.created_at) - (a.created_at < b.created_at));
    },
    get(id) { return read(name + id, null); },
    put(id, value) { return write(name + id, value); },
    remove(id) { write(name + id, null); },
    clear() { for (const id of ids()) this.remove(id); },
  };
}

// What an agent has typed on a complaint and not sent yet, per complaint and per user, kept in this
// browser: another complaint, a reload or signing in again loses nothing. One key per complaint
// (keyedEntries), so two consoles on different complaints never overwrite each other's drafts.
import { keyedEntries } from '/widget/assets/app/local.js';
import { cx } from './store.js';

const KEEP_MS = 30 * 24 * 3600 * 1000; // a draft left for a month is not coming back

export function draftStore(name) {
  const memory = new Map(); // also when storage is blocked or full: switching complaints keeps them
  const kept = keyedEntries(`console.${name}.${cx.me.id}.`);
  const cutoff = new Date(Date.now() - KEEP_MS).toISOString();
  for (const old of kept.all()) if (!(old.saved_at >= cutoff)) kept.remove(old.reference);
  return {
    get(reference) {
      return memory.get(reference) || kept.get(reference);
    },
    put(reference, draft) {
      const value = { ...draft, reference, saved_at: new Date().toISOString() };
      memory.set(reference, value);
      kept.put(reference, value);
    },
    remove(reference) {
      memory.delete(reference);
      kept.remove(reference);
    },
  };
}

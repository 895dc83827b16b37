// What an agent has typed and not sent yet, per chat or complaint and per user, kept in this browser:
// another chat or complaint, a reload or signing in again loses nothing, and another agent signing in
// on this browser never sees it. One key per chat or complaint (keyedEntries), so two consoles
// writing in different ones never overwrite each other's drafts.
import { keyedEntries } from '/widget/assets/app/local.js';

const KEEP_MS = 30 * 24 * 3600 * 1000; // a draft left for a month is not coming back

export function draftStore(name, userId) {
  // drafts storage refused (blocked or full): switching keeps them all the same. Only those: any
  // other is read from storage, which the agent's other consoles change too
  const memory = new Map();
  const kept = keyedEntries(`console.${name}.${userId}.`);
  const cutoff = new Date(Date.now() - KEEP_MS).toISOString();
  for (const old of kept.all()) if (!(old.saved_at >= cutoff)) kept.remove(old.reference);
  return {
    get(reference) {
      return memory.get(reference) || kept.get(reference);
    },
    put(reference, draft) {
      const value = { ...draft, reference, saved_at: new Date().toISOString() };
      if (kept.put(reference, value)) memory.delete(reference);
      else memory.set(reference, value);
    },
    remove(reference) {
      memory.delete(reference);
      kept.remove(reference);
    },
    /** Drops every draft whose chat or complaint `keep` says is gone. */
    prune(keep) {
      for (const draft of kept.all()) if (!keep(draft.reference)) this.remove(draft.reference);
      for (const reference of [...memory.keys()]) if (!keep(reference)) this.remove(reference);
    },
  };
}

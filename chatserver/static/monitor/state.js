// What the monitor knows: the live snapshot (queue, agents), the database figures, and the open drawer.

export const state = {
  me: { id: '', name: '', role: '' },
  live: null, // the last monitor:snapshot
  floor: null, // the last monitor:floor
  clockOffset: 0, // browser clock minus server clock, in ms
  drawer: null, // { conversationId, explanation }
};

export function agentById(id) {
  return state.live?.agents.find((a) => a.id === id) || null;
}

/** Where an open chat is now: in the queue (with its position) or with an agent. */
export function locate(conversationId) {
  const live = state.live;
  if (!live) return null;
  const queued = live.queue.find((q) => q.conversation_id === conversationId);
  if (queued) return { status: 'queued', entry: queued };
  for (const agent of live.agents) {
    const chat = agent.chats.find((c) => c.conversation_id === conversationId);
    if (chat) return { status: 'active', agent, chat };
  }
  return null;
}

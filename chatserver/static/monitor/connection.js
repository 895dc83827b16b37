// The one /monitor socket, and acknowledged calls that always settle (an ack, or an error object).

export const socket = io('/monitor', { transports: ['websocket', 'polling'], reconnectionDelay: 500, reconnectionDelayMax: 4000 });

export function call(event, payload) {
  if (!socket.connected) {
    return Promise.resolve({ ok: false, error: { code: 'offline', message: 'The monitor is reconnecting; try again in a moment.' } });
  }
  return socket.timeout(10000).emitWithAck(event, payload)
    .catch(() => ({ ok: false, error: { code: 'timeout', message: 'The server did not answer in time. Try again.' } }));
}

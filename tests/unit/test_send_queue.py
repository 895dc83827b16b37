"""What waits for one connection: a newer snapshot takes the place of an older one still waiting,
everything else waits in order, and the byte count and a close's wait stay right."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from chatserver.transport.send_queue import FrameQueue
from chatserver.transport.tuning import JsonPacket


def frame(codec: type[sio_packet.Packet], namespace: str, event: str, data: Any) -> eio_packet.Packet:
    """The engineio frame python-socketio queues for an emit, encoded as the server encodes it."""
    encoded = codec(sio_packet.EVENT, data=[event, data], namespace=namespace).encode()
    return eio_packet.Packet(eio_packet.MESSAGE, data=encoded)


def events(queue: FrameQueue) -> list[str]:
    return [pkt.data.split('"')[1] + " " + pkt.data.split('"n":')[1].rstrip("}]") for pkt in list(queue._queue)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("codec", [sio_packet.Packet, JsonPacket], ids=["stock", "fast path"])
async def test_a_newer_snapshot_replaces_the_one_still_waiting_and_nothing_else_is_lost(codec):
    queue = FrameQueue()
    sent = [
        ("/monitor", "monitor:snapshot", 1), ("/monitor", "complaint:updated", 1), ("/monitor", "monitor:floor", 1),
        ("/monitor", "monitor:snapshot", 2), ("/agent", "queue:snapshot", 1), ("/agent", "message:new", 1),
        ("/monitor", "monitor:snapshot", 3), ("/agent", "queue:snapshot", 2), ("/monitor", "monitor:floor", 2),
        ("/agent", "message:new", 2),
    ]
    frames = [frame(codec, ns, event, {"n": n}) for ns, event, n in sent]
    for pkt in frames:
        queue.put_nowait(pkt)
    # one of each whole state, the newest, at the place it was queued; every other frame, in order
    assert events(queue) == [
        "complaint:updated 1", "message:new 1", "monitor:snapshot 3", "queue:snapshot 2", "monitor:floor 2",
        "message:new 2",
    ]
    kept = [pkt for pkt in frames if pkt in list(queue._queue)]  # type: ignore[attr-defined]
    assert queue.waiting_bytes == sum(160 + len(pkt.data) for pkt in kept)
    while not queue.empty():
        queue.get_nowait()
        queue.task_done()
    assert queue.waiting_bytes == 0
    await asyncio.wait_for(queue.join(), 1)  # a close that waits for the queue is not kept waiting by a dropped frame


async def test_a_waiting_snapshot_is_kept_when_nothing_newer_comes():
    queue = FrameQueue()
    queue.put_nowait(frame(JsonPacket, "/monitor", "monitor:snapshot", {"n": 1}))
    queue.put_nowait(frame(JsonPacket, "/agent", "queue:snapshot", {"n": 1}))
    queue.put_nowait(None)  # engineio's "stop writing" marker
    assert len(list(queue._queue)) == 3  # type: ignore[attr-defined]
    # a message that merely mentions a snapshot is not one
    queue.put_nowait(frame(JsonPacket, "/agent", "message:new", {"body": '2/monitor,["monitor:snapshot",'}))
    queue.put_nowait(frame(JsonPacket, "/customer", "monitor:snapshot", {"n": 2}))  # another namespace: not ours to drop
    assert len(list(queue._queue)) == 5  # type: ignore[attr-defined]

"""What supervisors do from the queue monitor: place chats by hand, take one over, set an agent's
presence, escalate or reassign a complaint, and read why routing placed a chat where it did.

Every action checks the role here (the transport checks it too), and goes through the dispatcher or
the complaint service, which write, audit and publish after the commit.
"""

from __future__ import annotations

from typing import Any

from chatserver.domain.errors import Conflict, Forbidden, NotFound
from chatserver.services.auth import ConsoleUser
from chatserver.services.chats import ChatService
from chatserver.services.complaints import ComplaintService, SeenAssignee
from chatserver.services.dispatch import Dispatcher
from chatserver.store import conversations, customers
from chatserver.store.db import Database

# routing_decisions.rule for chats placed by hand from the monitor
RULE_ASSIGNED = "assigned_by_supervisor"
RULE_MOVED = "moved_by_supervisor"
RULE_TAKEN_OVER = "taken_over_by_supervisor"


def _check(user: ConsoleUser) -> None:
    if not user.is_supervisor:
        raise Forbidden("only supervisors and admins can do this")


class SupervisionService:
    def __init__(self, db: Database, dispatcher: Dispatcher, chats: ChatService, complaints: ComplaintService) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.chats = chats
        self.complaints = complaints

    async def _conversation(self, conversation_id: str) -> dict[str, Any]:
        row = await conversations.get(self.db, conversation_id)
        assert row is not None
        return await self.chats.public_conversation(row)

    async def assign(self, user: ConsoleUser, conversation_id: str, agent_id: str, *, force: bool = False) -> dict[str, Any]:
        """A waiting chat to an agent of the supervisor's choosing (past capacity only with `force`)."""
        _check(user)
        if self.dispatcher.conversation(conversation_id) is None:
            raise NotFound("no such open conversation")
        # a chat no longer waiting is refused under the dispatcher's lock, naming who has it now
        await self.dispatcher.hand_over(
            conversation_id, agent_id, actor=user.id, action="conversation.assigned", rule=RULE_ASSIGNED, over_capacity=force,
            only_if="queued",
        )
        return await self._conversation(conversation_id)

    async def move(
        self, user: ConsoleUser, conversation_id: str, to_agent_id: str, *, force: bool = False, from_agent_id: str | None = None,
    ) -> dict[str, Any]:
        """An active chat from its agent to another; with `from_agent_id`, only while it is still with the
        agent the supervisor saw it with, so two supervisors moving it at once move it once."""
        _check(user)
        live = self.dispatcher.conversation(conversation_id)
        if live is None:
            raise NotFound("no such open conversation")
        if live.status != "active":
            raise Conflict("the chat is waiting; assign it instead")
        await self.dispatcher.hand_over(
            conversation_id, to_agent_id, actor=user.id, action="conversation.moved", rule=RULE_MOVED, over_capacity=force,
            only_if="active", only_from=from_agent_id,
        )
        return await self._conversation(conversation_id)

    async def takeover(
        self, user: ConsoleUser, conversation_id: str, *, force: bool = False, seen: bool = False, from_agent_id: str | None = None,
    ) -> dict[str, Any]:
        """The supervisor takes the chat themself, waiting or active: it appears in their console. With
        `seen`, only while it is where the supervisor saw it: with `from_agent_id`, or waiting when that
        is None; a chat another supervisor moved or assigned meanwhile stays with the colleague."""
        _check(user)
        if self.dispatcher.conversation(conversation_id) is None:
            raise NotFound("no such open conversation")
        if user.id in self.dispatcher.agents and self.dispatcher.agents[user.id].sockets == 0:
            raise Conflict("open your console first: the chat goes there")
        await self.dispatcher.hand_over(
            conversation_id, user.id, actor=user.id, action="conversation.taken_over", rule=RULE_TAKEN_OVER, over_capacity=force,
            only_if=("active" if from_agent_id else "queued") if seen else None, only_from=from_agent_id,
        )
        return await self._conversation(conversation_id)

    async def set_agent_status(self, user: ConsoleUser, agent_id: str, status: str) -> dict[str, Any]:
        """Set someone's presence, e.g. away when they stepped out; offline hands their chats back to the queue."""
        _check(user)
        return await self.dispatcher.set_presence(agent_id, status, actor=user.id)

    async def escalate_complaint(self, user: ConsoleUser, reference: str, reason: str, *, from_level: int | None = None) -> dict[str, Any]:
        _check(user)
        return await self.complaints.escalate(user, reference, reason, from_level=from_level)

    async def assign_complaint(self, user: ConsoleUser, reference: str, assignee_id: str | None,
                               seen: SeenAssignee | None = None) -> dict[str, Any]:
        _check(user)
        return await self.complaints.assign(user, reference, assignee_id, seen)

    async def explain(self, user: ConsoleUser, conversation_id: str) -> dict[str, Any]:
        """The chat and every routing decision about it, oldest first: who was considered, in what
        state and load, the rule that chose, and who won."""
        _check(user)
        row = await conversations.get(self.db, conversation_id)
        if row is None:
            raise NotFound("no such conversation")
        names = {agent_id: agent.name for agent_id, agent in self.dispatcher.agents.items()}
        decisions = []
        for decision in await conversations.decisions_for(self.db, conversation_id):
            chosen = decision["chosen_agent_id"]
            decisions.append(
                {
                    "decided_at": decision["decided_at"],
                    "rule": decision["rule"],
                    "chosen_agent": {"id": chosen, "name": names.get(chosen, _candidate_name(decision, chosen))} if chosen else None,
                    "candidates": [_candidate(c, names) for c in decision["candidates"]],
                }
            )
        customer = await customers.get(self.db, row["customer_id"])
        conversation = await self.chats.public_conversation(row)
        conversation.update(
            queued_at=row["queued_at"], assigned_at=row["assigned_at"], closed_at=row["closed_at"],
            customer_name=customer["name"] if customer else None,
        )
        return {"conversation": conversation, "decisions": decisions}


def _candidate_name(decision: dict[str, Any], agent_id: str) -> str | None:
    for candidate in decision["candidates"]:
        if candidate.get("agent_id") == agent_id:
            return candidate.get("name")
    return None


def _candidate(candidate: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """One agent as routing saw them; transfers record fewer fields, so every key is optional."""
    out = {
        "agent_id": candidate.get("agent_id"),
        "name": candidate.get("name"),
        "status": candidate.get("status"),
        "active_chats": candidate.get("active_chats"),
        "max_chats": candidate.get("max_chats"),
        "eligible": candidate.get("eligible", candidate.get("reason") == "chosen"),
        "reason": candidate.get("reason"),
    }
    if candidate.get("by"):
        out["by"] = {"id": candidate["by"], "name": names.get(candidate["by"])}
    if candidate.get("from_agent_id"):
        out["from_agent"] = {"id": candidate["from_agent_id"], "name": names.get(candidate["from_agent_id"])}
    return out

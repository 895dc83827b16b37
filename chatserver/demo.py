"""Demo data for `chatserver demo`: an admin, a supervisor and agents with capacities, and a few
complaints at different stages so the complaints workspace, the monitor and the reports have
something to show on a first run."""

from __future__ import annotations

from chatserver.domain.errors import Conflict
from chatserver.services.auth import ConsoleUser
from chatserver.services.container import Services

DEMO_USERS = [
    # role, e-mail, name, password, max chats, languages
    ("admin", "admin@demo.test", "Ada Admin", "demo-admin-2026", 2, ["en"]),
    ("supervisor", "sam@demo.test", "Sam Supervisor", "demo-sam-2026", 2, ["en", "pl"]),
    ("agent", "bob@demo.test", "Bob Agent", "demo-bob-2026", 3, ["en", "ru"]),
    ("agent", "carol@demo.test", "Carol Agent", "demo-carol-2026", 3, ["en", "pl"]),
    ("agent", "dmitri@demo.test", "Dmitri Agent", "demo-dmitri-2026", 4, ["ru", "en"]),
]


# category, subject, text, channel, customer, e-mail, language, how far it has gone
DEMO_COMPLAINTS = [
    ("withdrawals", "Withdrawal W-5521 of 300 EUR pending for five days",
     "I requested 300 EUR to Skrill on Monday and it still shows as pending.",
     "email", "Jonas Berg", "jonas.berg@example.com", "en", "resolved"),
    ("bet_settlement", "Accumulator settled as lost though a match was postponed",
     "The Leeds match was postponed, so that leg should be void.",
     "phone", "Anna Kowalska", "anna.kowalska@example.com", "pl", "compensation"),
    ("account_access", "Locked out after a password reset",
     "The reset link says it has expired every time.",
     "email", "Ivan Petrov", "ivan.petrov@example.com", "ru", "question"),
    ("technical", "Cash-out button missing on a settled accumulator",
     "The button disappeared after the last app update.",
     "email", "James Carter", "james.carter@example.com", "en", "in_progress"),
    ("bonuses", "Welcome bonus not credited after the first deposit",
     "I deposited 50 EUR yesterday and the 100% bonus is not there.",
     "phone", "Sofia Rossi", "sofia.rossi@example.com", "en", "new"),
]


async def seed_demo(services: Services) -> list[tuple[str, str, str]]:
    logins = []
    staff: dict[str, ConsoleUser] = {}
    for role, email, name, password, max_chats, languages in DEMO_USERS:
        try:
            row = await services.auth.create_user(
                email=email, name=name, role=role, password=password, max_chats=max_chats, languages=languages
            )
            staff[email] = ConsoleUser.from_row(row)
        except Conflict:
            pass  # already seeded on an earlier run
        logins.append((role, email, password))
    if len(staff) == len(DEMO_USERS):  # a fresh database: show the complaint process at work
        await _seed_complaints(services, staff["bob@demo.test"])
    return logins


async def _seed_complaints(services: Services, agent: ConsoleUser) -> None:
    """Logged by Bob; the proposed compensation waits for the supervisor's decision in the console."""
    complaints = services.complaints
    for category, subject, text, channel, customer, email, locale, stage in DEMO_COMPLAINTS:
        logged = await complaints.log(
            agent, category=category, subject=subject, body=text, channel=channel,
            customer_email=email, customer_name=customer, locale=locale,
        )
        reference = logged["reference"]
        if stage == "new":
            continue
        await complaints.start(agent, reference)
        if stage == "question":
            await complaints.reply(agent, reference, "Which e-mail address does the reset link go to?", ask_customer=True)
        elif stage == "compensation":
            await complaints.note(agent, reference, "Trading confirms the match was postponed: rule 4.2, the leg is void.")
            await complaints.propose_compensation(
                agent, reference, amount_minor=1000, currency="EUR", reason="Goodwill free bet for the wrong settlement",
            )
        elif stage == "resolved":
            await complaints.reply(agent, reference, "Thank you for waiting; the payments team is checking the Skrill batch.")
            await complaints.resolve(agent, reference, "The payout was re-sent today and has arrived in your Skrill wallet.")

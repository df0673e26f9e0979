"""The people and chats of the sandbox: two customers, six staff, the admin chat, the support
forum, the incidents forum.

Plain data: the sandbox imports nothing from the bot, so roles are their string values
(the names of `services.users.Role`); `bot/sandbox_cmd.py` turns them into roster entries.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    id: int
    first_name: str
    username: str
    language: str  # "id" | "en"
    title: str  # what the page shows under the name
    roles: tuple[str, ...] = ()  # staff roles; empty for customers

    @property
    def is_staff(self) -> bool:
        return bool(self.roles)

    def view(self) -> dict[str, object]:
        return {
            "id": self.id,
            "first_name": self.first_name,
            "username": self.username,
            "language": self.language,
            "title": self.title,
            "roles": list(self.roles),
        }


BUDI = Member(1001, "Budi", "budi", "id", "Customer")
ALICE = Member(1002, "Alice", "alice", "en", "Customer")
SARI = Member(2001, "Sari", "sari_support", "id", "Support engineer", ("support_engineer",))
DIMAS = Member(2002, "Dimas", "dimas_senior", "id", "Senior engineer", ("senior_engineer",))
MAYA = Member(2003, "Maya", "maya_lead", "en", "Tech lead", ("tech_lead",))
HENDRA = Member(2004, "Hendra", "hendra_em", "id", "Engineering manager", ("engineering_manager",))
RATNA = Member(2005, "Ratna", "ratna_cto", "en", "CTO", ("cto", "admin"))
EKO = Member(2006, "Eko", "eko_senior", "id", "Senior engineer", ("senior_engineer",))

CAST: tuple[Member, ...] = (BUDI, ALICE, SARI, DIMAS, MAYA, HENDRA, RATNA, EKO)
STAFF: tuple[Member, ...] = tuple(m for m in CAST if m.is_staff)
ADMIN_IDS: tuple[int, ...] = tuple(m.id for m in CAST if "admin" in m.roles)

ADMIN_CHAT_ID = -1002000000001
ADMIN_CHAT_TITLE = "QuickCart Ops"
SUPPORT_CHAT_ID = -1002000000002
SUPPORT_CHAT_TITLE = "QuickCart Support"
# INCIDENT_CHAT_ID: a forum with one topic per incident (the incident rooms); the staff are
# members, the admins its administrators (a resolved incident's closed topic is theirs to write)
INCIDENT_CHAT_ID = -1002000000003
INCIDENT_CHAT_TITLE = "QuickCart Incidents"


# The senior engineers' weekly on-call rotation (issue 17): Dimas holds the week the sandbox
# starts in, Eko the next; the handoff is Monday 09:00 in TIMEZONE. Plain data, the shape of
# RULES_FILE `oncall.rotations.<role>.layers[]`; the world panel jumps to the next handoff.
ROTATION_ROLE = "senior_engineer"
ROTATION_LAYER: dict[str, object] = {
    "name": "24/7",
    "members": [DIMAS.id, EKO.id],
    "shift": "weekly",
    "handoff": "monday 09:00",
}


def by_id(user_id: int) -> Member | None:
    return next((m for m in CAST if m.id == user_id), None)

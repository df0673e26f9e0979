"""One cast for the tests: a name is one person, with one id and one role, in every folder.

The people the sandbox plays (sandbox/world/cast.py) keep their ids and roles here, so a story
read in a test means what it means on the sandbox's page. A test that needs one of these people
imports them from here rather than numbering its own; a test that needs someone new adds them
here first, under a name nobody else uses.

Clashes left (same name, another person, inside one test package only), and why:
- tests/integration/escalation numbers its own five-level roster (SARI, DEWI, TONO, MAYA, AGUS
  = 2001..2005, one role per level): DEWI, TONO and MAYA there are not the people of
  tests/e2e/rooms_world.py or tests/e2e/test_nobody_in.py. The level order is what those
  tests assert; renumbering them touches every escalation test for no change in meaning.
- tests/e2e/test_escalation_story.py has its own DIMAS (2004, never pressed Start) and EKO
  (2003, off call), and tests/integration/oncall its own EKO (2011): their on-call layers and
  rosters are spelled out in each test's rules.
- DEWI is a customer in tests/e2e/test_bad_input.py (1004) and
  tests/integration/tickets/test_unstorable_text.py (1005), a senior engineer in
  tests/integration/tickets/test_cards_follow.py, a tech lead in tests/e2e/rooms_world.py.
- SARI is 1010 in tests/e2e/test_nobody_in.py and test_support_staff.py (a support engineer,
  as here; only the id differs: those rosters number the staff from 1010).
- RINA, a support engineer in tests/integration/tickets and email (2001, SARI's id there).
"""

from __future__ import annotations

import asyncpg

from sandbox.world import cast as sandbox
from services import users

BUDI = sandbox.BUDI.id  # 1001, customer, Bahasa Indonesia
ALICE = sandbox.ALICE.id  # 1002, customer, English
CITRA = 1003  # customer (the delivery tests' third private chat)
SARI = sandbox.SARI.id  # 2001, support engineer
DIMAS = sandbox.DIMAS.id  # 2002, senior engineer
ADMIN = 7001  # Adi, the admin: ADMIN_IDS of the e2e app, the admin of every test roster


async def person(db: asyncpg.Pool, user_id: int) -> users.Person:
    """Someone the test stored already (by users.touch or a roster), as the services see them."""
    found = await users.get(db, user_id)
    assert found is not None
    return found

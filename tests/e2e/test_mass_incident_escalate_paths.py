"""Customer-facing from where staff escalated (issue 16: "from an incident (/incident, an alert's
Escalate, a ticket's Escalate) staff with the right role mark it customer-facing").

- A ticket's Escalate: Budi's payment ticket has its card in its topic in the support group;
  Rina presses Escalate there. The card, edited in place, now offers "📢 Customer-facing" beside
  its own buttons (the incident's card goes to the admin chat, where the support engineers in
  the topic are not). Sari (support engineer) presses it and is refused, on the audit log; a
  forged press names no incident; Tono (tech lead) presses it and the incident is declared from
  the ticket (its category, a notice proposed from its subject), and the button leaves the card;
  a stale press is answered, nothing changes.
- An alert's Escalate: Alertmanager's PaymentErrors reaches the admin chat; Rina presses
  Escalate there; the incident's card in that same chat offers the button; Tono declares it
  (the match read from the alert's summary: payment). Where a route sent the alert to another
  chat (the security chat), the incident's card comes to that chat too.
"""

from __future__ import annotations

from datetime import timedelta

from sandbox.telegram.client import Json
from tests.cast import ADMIN, BUDI
from tests.e2e.conftest import World, fast_rules
from tests.e2e.test_alert_story import T0, escalate_payment_errors, flush_at
from tests.e2e.test_alert_story import e2e_clock as e2e_clock  # the story's frozen clock
from tests.e2e.test_alert_story import start as start_alerts
from tests.e2e.test_escalation_story import put_on_roster
from tests.e2e.test_mass_incident_buttons import refused_and_audited
from tests.e2e.test_mass_incident_story import datas, press
from tests.e2e.test_routing_story import post_fraud_alert, routed_with_a_security_chat
from tests.e2e.test_support_story import card_of, choose_indonesian, open_ticket

SARI, TONO = 2001, 2003


async def declared_by_tono(world: World, chat: int, message: Json, data: str) -> None:
    declared = await press(world, TONO, chat, message, data)
    assert "QC-000001" in declared["text"], declared
    row = await world.pool.fetchrow("SELECT categories, declared_by FROM public_incidents")
    assert row is not None and row["declared_by"] == TONO
    assert "payment" in list(row["categories"]), row
    assert await world.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'incident.public' AND allowed "
        "AND actor_id = $1 AND chat_id = $2",
        TONO,
        chat,
    )
    via = await world.pool.fetchval(
        "SELECT details->>'via' FROM ticket_events WHERE ticket_id = 1 AND kind = 'public_declared'"
    )
    assert via == "button"


async def test_a_tickets_escalate_leaves_its_card_offering_customer_facing(world: World) -> None:
    await put_on_roster(world, SARI, "Sari", "support_engineer")
    await put_on_roster(world, TONO, "Tono", "tech_lead")
    await choose_indonesian(world, BUDI)
    await open_ticket(world, BUDI, "payment", "Pembayaran QRIS saya gagal terus", None)
    card = await card_of(world, "QC-000001")
    assert not any(d.endswith(":pub:1") or ":pub:" in d for d in datas(card)), datas(card)

    escalated = await press(world, ADMIN, world.support_chat_id, card, "tk:1:esc")
    assert "QC-000001" in escalated["text"], escalated
    offering = await world.tg.wait_for_edit(
        world.support_chat_id, card["message_id"], predicate=lambda m: "inc:1:pub:2" in datas(m)
    )
    assert "Umumkan ke pelanggan" in str(offering["reply_markup"]), offering["reply_markup"]
    assert "tk:1:res" in datas(offering), "the ticket's own buttons stay"

    await refused_and_audited(world, world.support_chat_id, offering, "inc:1:pub:2")
    query = await world.tg.press(
        TONO, world.support_chat_id, card["message_id"], "inc:999:pub:2", force=True
    )
    forged = await world.tg.callback_answer(query)
    assert forged["text"] == "Tiket ini bukan insiden.", forged

    await declared_by_tono(world, world.support_chat_id, offering, "inc:1:pub:2")
    # the staff card of the incident arrives in the ticket's own topic
    public_card = await world.tg.wait_for_message(
        world.support_chat_id, predicate=lambda m: "mc:1:res" in datas(m)
    )
    assert public_card["message_thread_id"] == card["message_thread_id"]
    # the ticket card no longer offers it; a stale press is answered and changes nothing
    # (a person's change shows once the card's pause after the last edit has passed)
    world.frozen_clock.advance(timedelta(seconds=3))
    await world.tg.wait_for_edit(
        world.support_chat_id, card["message_id"],
        predicate=lambda m: "inc:1:pub:2" not in datas(m) and "tk:1:res" in datas(m),
    )  # fmt: skip
    query = await world.tg.press(
        TONO, world.support_chat_id, card["message_id"], "inc:1:pub:2", force=True
    )
    again = await world.tg.callback_answer(query)
    assert "sudah" in again["text"], again
    assert await world.pool.fetchval("SELECT count(*) FROM public_incidents") == 1
    assert (
        await world.pool.fetchval(
            "SELECT count(*) FROM ticket_events WHERE kind = 'public_declared'"
        )
        == 1
    )


async def test_an_alerts_escalate_brings_the_incident_card_offering_it(
    world_unstarted: World,
) -> None:
    world = await start_alerts(world_unstarted, fast_rules(alerts={"rules": []}))
    await put_on_roster(world, SARI, "Sari", "support_engineer")
    await put_on_roster(world, TONO, "Tono", "tech_lead")
    _, answer = await escalate_payment_errors(world)
    assert "QC-000001" in answer["text"], answer

    incident_card = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "inc:1:pub:1" in datas(m)
    )
    await refused_and_audited(world, world.admin_chat_id, incident_card, "inc:1:pub:1")
    await declared_by_tono(world, world.admin_chat_id, incident_card, "inc:1:pub:1")
    await world.tg.wait_for_edit(
        world.admin_chat_id, incident_card["message_id"],
        predicate=lambda m: "inc:1:pub:1" not in datas(m),
    )  # fmt: skip


async def test_an_alerts_escalate_in_a_routed_chat_brings_the_incident_card_there(
    world_unstarted: World,
) -> None:
    """The route sends FraudSpike to the security chat, which the escalation policy does not
    tell: Rina's Escalate there brings the incident's card into that chat too (it used to go to
    the admin chat only, and the people who pressed saw nothing to mark customer-facing)."""
    world, security = await routed_with_a_security_chat(world_unstarted)
    clock = world.frozen_clock
    await put_on_roster(world, TONO, "Tono", "tech_lead")
    await post_fraud_alert(world)
    await flush_at(world, clock, T0 + timedelta(seconds=31))
    fraud = await world.tg.wait_for_message(
        security["id"], predicate=lambda m: "FraudSpike" in m.get("text", "")
    )
    group_id = await world.pool.fetchval("SELECT id FROM alert_groups")
    answer = await press(world, ADMIN, security["id"], fraud, f"al:{group_id}:esc")
    assert "QC-000001" in answer["text"], answer

    here = await world.tg.wait_for_message(
        security["id"], predicate=lambda m: "inc:1:pub:1" in datas(m)
    )
    assert "QC-000001" in here["text"] and "FraudSpike" in here["text"], here["text"]
    # the admin chat has its own card, as before
    await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "inc:1:pub:1" in datas(m)
    )
    declared = await press(world, TONO, security["id"], here, "inc:1:pub:1")
    assert "QC-000001" in declared["text"], declared
    # both cards follow the incident: neither offers it any more
    for chat in (security["id"], world.admin_chat_id):
        cards = [m for m in await world.tg.messages(chat) if "inc:1:esc:1" in datas(m)]
        assert len(cards) == 1, (chat, cards)
        await world.tg.wait_for_edit(
            chat, cards[0]["message_id"], predicate=lambda m: "inc:1:pub:1" not in datas(m)
        )

"""The one permission table (services.staff) covers every command and every button family the
handlers know, and the features' own checks read it rather than a table of their own."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from pathlib import Path

from aiogram import Router
from aiogram.filters import Command

import handlers
from handlers.buttons import Press
from services import staff
from services.alerts import actions as alert_actions
from services.buttons import FAMILIES, Button
from services.staff import Action, ChatKind
from services.users import ENGINEER_ROLES, Person, Role


def _filters(router: Router, observer: str) -> Iterator[object]:
    for handler in getattr(router, observer).handlers:
        for found in handler.filters or ():
            yield found.callback


def handled_commands() -> set[str]:
    names: set[str] = set()
    for router in handlers.routers():
        for found in _filters(router, "message"):
            if isinstance(found, Command):
                names.update(c for c in found.commands if isinstance(c, str))
    return names


def button_factories() -> dict[str, type[Button]]:
    """Every button family a handler reads, by prefix."""
    factories: dict[str, type[Button]] = {}
    for router in handlers.routers():
        for found in _filters(router, "callback_query"):
            if isinstance(found, Press):
                factories[found.family.FAMILY.prefix] = found.family
    return factories


def test_every_command_a_handler_takes_is_in_the_table() -> None:
    handled = handled_commands()
    assert handled - staff.PUBLIC_COMMANDS == set(staff.COMMANDS)
    assert handled >= staff.PUBLIC_COMMANDS


def test_every_command_in_the_menus_is_in_the_table() -> None:
    menus = handlers.CUSTOMER_COMMANDS + handlers.ADMIN_COMMANDS + handlers.SUPPORT_COMMANDS
    assert {name for name, _ in menus} <= set(staff.COMMANDS) | staff.PUBLIC_COMMANDS
    assert {name for name, _ in handlers.CUSTOMER_COMMANDS} <= staff.PUBLIC_COMMANDS


def test_every_button_family_is_in_the_table_with_each_of_its_presses() -> None:
    factories = button_factories()
    assert set(factories) == set(staff.BUTTONS) | staff.PUBLIC_BUTTONS
    assert not set(staff.BUTTONS) & staff.PUBLIC_BUTTONS
    assert set(FAMILIES) == set(factories)  # no family is defined that no handler reads
    for prefix, presses in staff.BUTTONS.items():
        hints = typing.get_type_hints(factories[prefix])
        acts = next(
            (
                set(typing.get_args(hints[name]))
                for name in ("act", "a")
                if name in hints and typing.get_origin(hints[name]) is typing.Literal
            ),
            None,
        )
        if acts is not None:  # a Literal field names every press the family has
            assert set(presses) == acts, prefix


def test_every_action_has_its_roles_and_no_privileged_door_is_open_to_everyone() -> None:
    assert set(staff.PERMISSIONS) == set(Action)
    for name, rule in staff.COMMANDS.items():
        assert rule.chats and ChatKind.OTHER not in rule.chats, name
        for action in (rule.action, *rule.subcommands.values()):
            assert not staff.may([], action), name


def test_subcommands_need_their_own_action() -> None:
    assert staff.COMMANDS["staff"].action_for("add 42 admin") is Action.CHANGE_ROSTER
    assert staff.COMMANDS["staff"].action_for("REMOVE 42") is Action.CHANGE_ROSTER
    assert staff.COMMANDS["staff"].action_for(None) is Action.VIEW_ROSTER
    assert staff.COMMANDS["maintenance"].action_for("start 1h") is Action.MAINTENANCE_WINDOW
    assert staff.COMMANDS["maintenance"].action_for("") is Action.VIEW_ALERTS


def test_a_tickets_own_customer_may_only_what_customers_do() -> None:
    budi = Person(id=1001, first_name="Budi")
    for action in staff.OWNER_MAY:
        assert staff.may_person(budi, action, owner_id=budi.id)
        assert not staff.may_person(budi, action, owner_id=1002)
    assert not staff.may_person(budi, Action.RESOLVE_TICKET, owner_id=budi.id)
    assert not staff.may_person(None, Action.VIEW_TICKET, owner_id=1001)


def test_the_alert_buttons_read_the_table() -> None:
    for action, roles in alert_actions.ALLOWED.items():
        assert roles == staff.PERMISSIONS[Action(f"alerts.{action.value}")]
    assert not alert_actions.may(
        Person(1, "Pia", roles=frozenset({Role.PRODUCT})), alert_actions.Action.ACKNOWLEDGE
    )


def _who(action: Action) -> str:
    roles = staff.PERMISSIONS[action]
    missing = staff.ALL_STAFF - roles
    if not missing:
        names = ["any staff role"]
    elif roles and len(missing) <= 2:
        names = ["any staff role except " + " and ".join(sorted(missing))]
    elif roles >= ENGINEER_ROLES:
        names = ["engineers", *sorted(roles - ENGINEER_ROLES)]
    else:
        names = sorted(roles)
    if action in staff.OWNER_MAY:
        names.append("the ticket's own customer")
    return ", ".join(names)


_WHERE = {ChatKind.ADMIN: "admin chat", ChatKind.SUPPORT: "support group",
          ChatKind.PRIVATE: "private chat", ChatKind.INCIDENTS: "incidents chat"}  # fmt: skip


def readme_tables() -> str:
    """The README's rendering of the permission table (its section must say exactly this)."""
    lines = ["| command | action (audited as) | who may | where |", "|---|---|---|---|"]
    for name, rule in sorted(staff.COMMANDS.items()):
        base = rule.chats - set(rule.in_chat)
        where = ", ".join(label for kind, label in _WHERE.items() if kind in base)
        for sub, action in [("", rule.action), *rule.subcommands.items()]:
            command = f"`/{name} {sub}`" if sub else f"`/{name}`"
            lines.append(f"| {command} | `{action}` | {_who(action)} | {where} |")
        for kind, action in rule.in_chat.items():  # the same command, another meaning there
            lines.append(f"| `/{name}` | `{action}` | {_who(action)} | {_WHERE[kind]} |")
    lines += ["", "| button (prefix:press) | action (audited as) | who may |", "|---|---|---|"]
    for prefix, presses in sorted(staff.BUTTONS.items()):
        for act, action in presses.items():
            button = f"`{prefix}:{act}`" if act else f"`{prefix}`"
            lines.append(f"| {button} | `{action}` | {_who(action)} |")
    return "\n".join(lines)


def test_the_readme_shows_the_table_as_it_is() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert readme_tables() in readme, "README.md's permission table is out of date:\n" + (
        readme_tables()
    )

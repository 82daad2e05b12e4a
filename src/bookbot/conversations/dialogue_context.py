"""Who is writing, to which studio: the turn's `Context`, built from what claiming the lease
read (`Dialogues` calls these at the start of every turn)."""

from __future__ import annotations

from typing import Protocol

from bookbot.conversations import store
from bookbot.conversations.matching import clean_name
from bookbot.conversations.model import TEXTING, Inbound
from bookbot.conversations.states import Context, PaymentSetup, State, TextSender
from bookbot.engine.clock import Clock
from bookbot.presentation.i18n import negotiate, translator
from bookbot.services import staff_access
from bookbot.services import studio_channels as endpoints
from bookbot.services.common import Studio
from bookbot.services.customers import customer_for, set_preferred_channel
from bookbot.store.db import Database


class Setup(Protocol):
    """What the deployment gives every turn (`Dialogues` is one)."""

    db: Database
    clock: Clock
    default_studio: str | None
    sms: TextSender | None
    payments: PaymentSetup | None


async def choose_studio(
    setup: Setup,
    inbound: Inbound,
    slug: str | None,
    current: Studio | None,
    owner: int | None = None,
) -> Studio:
    """The studio a deep link names, else this deployment's default (configured, else
    its only studio, else the first loaded: `services.common.default_studio`). On a
    studio's own bot or number it is always that studio (a link elsewhere is ignored);
    the default one reaches only studios without their own (`services.studio_channels`).
    `owner`: the studio owning the own endpoint as the claim read it (`Lease.endpoint_owner`)."""
    channel = inbound.channel.value
    if inbound.endpoint:
        if current is not None and owner in (None, current.id):
            return current  # owner None: nobody took it (served till a restart): it stays
        return await endpoints.studio_of(setup.db, channel, inbound.endpoint)
    chosen, linked = await endpoints.default_reach(
        setup.db, channel, configured=setup.default_studio, slug=slug
    )
    if linked is not None:
        return linked
    if slug and current is not None:  # that studio answers on its own bot: stay here
        return current
    return chosen


async def turn_context(
    setup: Setup, inbound: Inbound, slug: str | None, lease: store.Lease
) -> Context:
    """The turn's context from what claiming the lease read; more reads only for a first
    contact, a deep link into another studio, or a customer new to the studio."""
    now = setup.clock.now()
    channel = inbound.channel.value
    conversation, studio = lease.conversation, lease.studio
    # An own bot or number moved to another studio (its [channels] section) takes its
    # dialogues along: the person now writes to that studio, never to the one it left.
    owner = lease.endpoint_owner
    moved = inbound.endpoint and studio is not None and owner not in (None, studio.id)
    if conversation is None or studio is None or slug or moved:
        studio = await choose_studio(setup, inbound, slug, studio, owner)
    if conversation is None:
        hint = inbound.language_hint
        conversation = await store.create(
            setup.db,
            lease,
            now,
            store.NewDialogue(
                channel,
                inbound.address,
                studio=studio,
                language=negotiate(hint) if hint else studio.default_language,
                state=State.MENU.value,
                endpoint=inbound.endpoint,
            ),
        )
        if not conversation.created and not slug and lease.studio is not None:
            studio = lease.studio  # another worker's first contact, claimed from them
    customer, staff_id = lease.customer, lease.staff_id
    if lease.studio is None or lease.studio.id != studio.id:
        # A deep link into another studio: who they are here is still to find.
        customer = None
        staff_id = await staff_access.staff_for(setup.db, studio.id, channel, inbound.address)
    if conversation.studio_id != studio.id:  # a deep link into another studio
        conversation.studio_id, conversation.customer_id = studio.id, None
        conversation.state, conversation.data = State.MENU.value, {}
    if customer is None:  # first contact, or new to this studio
        customer = await customer_for(
            setup.db,
            setup.clock,
            studio.id,
            channel,
            inbound.address,
            name=clean_name(inbound.display_name),
            # By SMS and WhatsApp the address is the phone number.
            phone=inbound.phone or (inbound.address if channel in TEXTING else None),
            language=conversation.language,
        )
    conversation.customer_id = customer.id
    if customer.preferred_channel != channel:
        await set_preferred_channel(setup.db, studio.id, customer.id, channel)
    if staff_id is None and conversation.state.startswith("staff_"):
        # A staff screen: make sure with the lookup that also reads older phone spellings.
        staff_id = await staff_access.staff_for(setup.db, studio.id, channel, inbound.address)
    language = customer.language or conversation.language
    conversation.language = language
    return Context(
        setup.db,
        setup.clock,
        now,
        translator(language),
        studio,
        customer,
        conversation,
        setup.sms,
        staff_id,
        setup.payments,
    )

"""The hourly digest: one e-mail per tenant with recipients, sent again only when the alerts change or a day
has passed, an "all clear" once they stop, nothing without recipients, and a mail failure that crashes nothing."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from alerts.digest import REPEAT_AFTER, DigestKind, alert_digest_send, digest_due
from alerts.models import AlertDigestState, AlertSettings
from alerts.tasks import alert_digests_task
from integrations.models import Connection, ConnectionStatus, EventState, InboundEvent

NOW = dt.datetime(2026, 11, 27, 16, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


# -- the repeat rule, as a plain function ----------------------------------------------------------------------

def test_digest_due_sends_new_or_changed_alerts_and_repeats_only_after_a_day():
    assert digest_due(firing={"a"}, last_sent=None, last_sent_at=None, now=NOW) == DigestKind.ALERTS
    assert digest_due(firing={"a"}, last_sent={"a"}, last_sent_at=NOW - HOUR, now=NOW) is None
    assert digest_due(firing={"a", "b"}, last_sent={"a"}, last_sent_at=NOW - HOUR, now=NOW) == DigestKind.ALERTS
    assert digest_due(firing={"b"}, last_sent={"a", "b"}, last_sent_at=NOW - HOUR, now=NOW) == DigestKind.ALERTS
    assert digest_due(firing={"a"}, last_sent={"a"}, last_sent_at=NOW - REPEAT_AFTER + HOUR, now=NOW) is None
    assert digest_due(firing={"a"}, last_sent={"a"}, last_sent_at=NOW - REPEAT_AFTER, now=NOW) == DigestKind.ALERTS
    assert digest_due(firing={"a"}, last_sent=set(), last_sent_at=NOW - HOUR, now=NOW) == DigestKind.ALERTS


def test_digest_due_says_all_clear_once_after_alerts_and_never_out_of_nothing():
    assert digest_due(firing=set(), last_sent={"a"}, last_sent_at=NOW - HOUR, now=NOW) == DigestKind.ALL_CLEAR
    assert digest_due(firing=set(), last_sent=set(), last_sent_at=NOW - HOUR, now=NOW) is None
    assert digest_due(firing=set(), last_sent=None, last_sent_at=None, now=NOW) is None


# -- sending ---------------------------------------------------------------------------------------------------

django_db = pytest.mark.django_db


def park(world, external_id: str) -> InboundEvent:
    return InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                       entity="organisation", action="updated", external_id=external_id,
                                       state=EventState.FAILED, last_error="Uniconta refused the data")


def recipients(world, *addresses: str) -> None:
    AlertSettings.objects.update_or_create(tenant=world.tenant, defaults={"recipients": list(addresses)})


@django_db
def test_no_recipients_no_mail_and_nothing_remembered(world):
    park(world, "17")
    assert alert_digest_send(tenant=world.tenant, now=NOW) is None
    recipients(world)
    assert alert_digests_task() == 0
    assert mail.outbox == [] and not AlertDigestState.objects.exists()


@django_db
def test_the_digest_is_sent_once_then_again_when_the_alerts_change_and_all_clear_at_the_end(world, settings):
    settings.PUBLIC_BASE_URL = "https://synkro.example.com"
    settings.DEFAULT_FROM_EMAIL = "Synkro <alerts@synkro.example.com>"
    recipients(world, "drift@nordlys.dk", "it@nordlys.dk")
    park(world, "17")

    assert alert_digest_send(tenant=world.tenant, now=NOW) == DigestKind.ALERTS
    [message] = mail.outbox
    assert message.to == ["drift@nordlys.dk", "it@nordlys.dk"]
    assert message.from_email == "Synkro <alerts@synkro.example.com>"
    assert message.subject == "Synkro: 1 alert for Nordlys Handel A/S"
    assert "1 change waits as dead letters for a person to replay (threshold 1)." in message.body
    assert "https://synkro.example.com/t/nordlys/dead-letters/" in message.body

    # The same alerts an hour later (even with a higher count): nothing new to say.
    park(world, "18")
    assert alert_digest_send(tenant=world.tenant, now=NOW + HOUR) is None
    assert len(mail.outbox) == 1

    # A new kind fires: the set changed, the digest goes again with both.
    Connection.objects.filter(pk=world.integration.erp_connection_id).update(status=ConnectionStatus.FAILED)
    assert alert_digest_send(tenant=world.tenant, now=NOW + 2 * HOUR) == DigestKind.ALERTS
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == "Synkro: 2 alerts for Nordlys Handel A/S"
    assert "refuses the credentials" in mail.outbox[1].body

    # Unchanged for a day: said again.
    assert alert_digest_send(tenant=world.tenant, now=NOW + 3 * HOUR) is None
    assert alert_digest_send(tenant=world.tenant, now=NOW + 2 * HOUR + REPEAT_AFTER) == DigestKind.ALERTS
    assert len(mail.outbox) == 3

    # Everything recovers: one short all clear, then silence.
    InboundEvent.objects.filter(tenant=world.tenant, state=EventState.FAILED).update(state=EventState.DONE)
    Connection.objects.filter(pk=world.integration.erp_connection_id).update(status=ConnectionStatus.OK)
    later = NOW + 3 * HOUR + REPEAT_AFTER
    assert alert_digest_send(tenant=world.tenant, now=later) == DigestKind.ALL_CLEAR
    assert mail.outbox[3].subject == "Synkro: all clear for Nordlys Handel A/S"
    assert alert_digest_send(tenant=world.tenant, now=later + HOUR) is None
    assert len(mail.outbox) == 4


@django_db
def test_the_task_sends_each_tenants_digest_to_its_own_recipients(world):
    recipients(world, "drift@nordlys.dk")
    AlertSettings.objects.create(tenant=world.other_tenant, recipients=["it@fjallvind.se"])
    park(world, "17")
    assert alert_digests_task() == 1
    [message] = mail.outbox
    assert message.to == ["drift@nordlys.dk"] and "Nordlys" in message.subject
    assert alert_digests_task() == 0


@django_db
def test_a_mail_failure_is_logged_without_crashing_and_tried_again(world, settings, caplog):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    settings.EMAIL_HOST_PASSWORD = "smtp-secret-password"
    recipients(world, "drift@nordlys.dk")
    park(world, "17")
    with caplog.at_level(logging.WARNING, logger="alerts.digest"):
        assert alert_digests_task() == 0
    assert "could not be sent (SMTPServerDisconnected)" in caplog.text
    assert "smtp-secret-password" not in caplog.text
    assert not AlertDigestState.objects.exists()  # nothing remembered as sent: the next run tries again
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert alert_digests_task() == 1 and len(mail.outbox) == 1


@django_db
def test_the_digest_is_scheduled_hourly_on_the_live_queue():
    """An import can fill the bulk queue for an hour; an alert must not wait behind it."""
    from django_q.models import Schedule

    from integrations.tasks import schedules_ensure

    schedules_ensure()
    schedule = Schedule.objects.get(func="alerts.tasks.alert_digests_task")
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 60
    assert schedule.cluster == "synkro-live"

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from integrations.models import Connection, Integration
from tenants.models import Membership, Tenant

pytestmark = pytest.mark.django_db


def test_demo_setup_is_idempotent_and_logins_work():
    call_command("demo_setup", base_url="http://127.0.0.1:8000")
    counts = (Tenant.objects.count(), Membership.objects.count(), Connection.objects.count(),
              Integration.objects.count())
    call_command("demo_setup", base_url="http://127.0.0.1:8000")
    assert counts == (Tenant.objects.count(), Membership.objects.count(), Connection.objects.count(),
                      Integration.objects.count())
    roles = dict(Membership.objects.filter(tenant__slug="demo").values_list("user__username", "role"))
    assert roles == {"demo-admin": "admin", "demo-customer": "customer", "demo-support": "support"}
    for username in roles:
        # Every password check goes through the login throttle, which needs the request it came with.
        assert authenticate(RequestFactory().post("/accounts/login/"), username=username,
                            password="synkro-demo") is not None
    connection = Connection.objects.get(tenant__slug="demo", system="webcrm")
    assert connection.base_url == "http://127.0.0.1:8000/sandbox/webcrm"
    # webCRM with each ERP, and Customers 1st with Uniconta.
    pairs = {(i.crm_connection.system, i.erp_connection.system) for i in Integration.objects.all()}
    assert pairs == {("webcrm", "uniconta"), ("webcrm", "fortnox"), ("webcrm", "vismanet"),
                     ("customers1st", "uniconta")}
    # One webCRM feeds one ERP at a time: the others wait paused.
    active = {(i.crm_connection.system, i.erp_connection.system) for i in Integration.objects.filter(active=True)}
    assert active == {("webcrm", "uniconta"), ("customers1st", "uniconta")}


def test_the_demo_shop_has_its_books_and_registers_set_up():
    call_command("demo_setup", base_url="http://127.0.0.1:8000")
    call_command("demo_setup", base_url="http://127.0.0.1:8000")
    pos = Integration.objects.get(tenant__slug="demo", crm_connection__system="customers1st").pos_settings
    assert (pos.default_pos_debtor, pos.pos_journal, pos.cash_gl_account) == ("99999", "POS", "5500")
    assert sorted(pos.registers.values_list("name", flat=True)) == ["Kasse 1", "Kasse 2", "Værksted"]

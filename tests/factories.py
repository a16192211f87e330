"""factory-boy factories for every model."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from integrations.models import Connection, Integration
from tenants.models import Membership, Role, Tenant

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n} ApS")
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    active = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Role.ADMIN


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    tenant = factory.SubFactory(TenantFactory)
    system = "webcrm"
    name = factory.Sequence(lambda n: f"Connection {n}")
    base_url = "https://sandbox.webcrm.test"
    credentials = factory.LazyFunction(lambda: {"api_key": "webcrm-secret-api-key-123"})


class ErpConnectionFactory(ConnectionFactory):
    system = "uniconta"
    base_url = "https://sandbox.uniconta.test"
    credentials = factory.LazyFunction(
        lambda: {"company_id": "1234", "username": "api", "password": "uniconta-secret-password-456"}
    )


class IntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Integration

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Integration {n}")
    crm_connection = factory.SubFactory(ConnectionFactory, tenant=factory.SelfAttribute("..tenant"))
    erp_connection = factory.SubFactory(ErpConnectionFactory, tenant=factory.SelfAttribute("..tenant"))

from integrations.systems.registry import all_systems


def test_every_configured_system_is_registered():
    assert {p.key for p in all_systems()} == {"webcrm", "uniconta", "fortnox", "vismanet", "customers1st"}

from integrations.engine.merge import merge_two_way

BASE = {"name": "Hagaby AB", "city": "Malmö", "phone": "+46 8 1"}


def merge(crm, erp, base=BASE, owners=None, default_owner="newest", crm_is_newer=True):
    return merge_two_way(crm=crm, erp=erp, base=base, owners=owners or {}, default_owner=default_owner,
                         crm_is_newer=crm_is_newer)


def test_a_field_changed_on_one_side_flows_to_the_other():
    result = merge({**BASE, "name": "Hagaby HB"}, {**BASE, "city": "Lund"})
    assert result.to_erp == {"name": "Hagaby HB"}
    assert result.to_crm == {"city": "Lund"}
    assert result.conflicts == []
    assert result.agreed == {"name": "Hagaby HB", "city": "Lund", "phone": "+46 8 1"}


def test_nothing_changed_means_nothing_to_write():
    result = merge(dict(BASE), dict(BASE))
    assert (result.to_erp, result.to_crm, result.conflicts) == ({}, {}, [])


def test_a_field_changed_on_both_sides_is_a_conflict_resolved_by_its_owner():
    crm, erp = {**BASE, "phone": "+46 8 2"}, {**BASE, "phone": "+46 8 3"}
    by_erp = merge(crm, erp, owners={"phone": "erp"})
    assert by_erp.to_crm == {"phone": "+46 8 3"} and by_erp.to_erp == {}
    assert [(c.key, c.crm_value, c.erp_value, c.winner) for c in by_erp.conflicts] == [
        ("phone", "+46 8 2", "+46 8 3", "erp")]
    by_crm = merge(crm, erp, default_owner="crm")
    assert by_crm.to_erp == {"phone": "+46 8 2"} and by_crm.conflicts[0].resolved_value == "+46 8 2"
    newest_erp = merge(crm, erp, crm_is_newer=False)
    assert newest_erp.to_crm == {"phone": "+46 8 3"}


def test_the_same_change_on_both_sides_is_no_conflict():
    result = merge({**BASE, "city": "Lund"}, {**BASE, "city": "Lund"})
    assert (result.to_erp, result.to_crm, result.conflicts) == ({}, {}, [])


def test_without_a_base_the_owner_decides_silently():
    result = merge({"name": "A"}, {"name": "B"}, base=None, default_owner="erp")
    assert result.to_crm == {"name": "B"} and result.conflicts == []

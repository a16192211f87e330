from decimal import Decimal

import pytest
from stdnum.dk import cvr
from stdnum.fi import ytunnus

from integrations.engine.identity import (
    DIFFERENT_NAME,
    SAME_NAME,
    Evidence,
    email_key,
    name_key,
    name_similarity,
    org_key,
    org_keys_agree,
    org_number_spellings,
    phone_key,
    weigh,
)


def _valid_cvr() -> str:
    """A Danish CVR number whose check digit is right and that is no Finnish business ID as well."""
    return next(str(n) for n in range(12345600, 12345700) if cvr.is_valid(str(n)) and not ytunnus.is_valid(str(n)))


CVR = _valid_cvr()
BAD_CVR = next(str(n) for n in range(12345600, 12345700) if not cvr.is_valid(str(n)))
NORWEGIAN = "923609016"  # check digit valid (mod 11)
FINNISH = "2077474-0"  # Y-tunnus with valid check digit


# --- org_key --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["556677-8899", "5566778899", "SE556677889901", " 556677 - 8899 ", 5566778899,
                                   "SE 5566778899", "Org.nr 556677-8899", "VAT no: SE556677889901",
                                   "556677889901"])
def test_swedish_org_numbers_in_every_spelling_give_one_key(value):
    assert org_key(value) == "SE5566778899"


def test_a_different_swedish_org_number_disagrees():
    assert org_key("556012-3456") == "SE5560123456"
    assert org_keys_agree(org_key("556012-3456"), org_key("556677-8899")) is False


@pytest.mark.parametrize("value", ["811218-9876", "8112189876", "19811218-9876", "811218+9876", "SE811218987601"])
def test_a_sole_traders_personal_number_is_a_swedish_org_number(value):
    assert org_key(value) == "SE8112189876"


def test_danish_cvr_with_or_without_country_and_spaces_gives_one_key():
    spaced = "DK " + " ".join(CVR[i:i + 2] for i in range(0, 8, 2))
    keys = {org_key(f"DK{CVR}"), org_key(spaced), org_key(CVR), org_key(int(CVR)), org_key(Decimal(CVR)),
            org_key(f"CVR: {CVR}"), org_key(f"CVR-nr. {CVR}")}
    assert keys == {f"DK{CVR}"}


@pytest.mark.parametrize("value", [NORWEGIAN, "923 609 016", "NO923609016", "NO 923 609 016 MVA", "923609016MVA"])
def test_norwegian_org_numbers_with_or_without_no_and_mva(value):
    assert org_key(value) == "NO923609016"


@pytest.mark.parametrize("value", [FINNISH, "FI20774740", "FI 2077474-0"])
def test_finnish_business_ids(value):
    assert org_key(value) == "FI20774740"


@pytest.mark.parametrize(("value", "key"), [("DE 136 695 976", "DE136695976"), ("ATU13585627", "ATU13585627"),
                                            ("GR094259216", "EL094259216"), ("nl004495445B01", "NL004495445B01")])
def test_other_eu_vat_numbers_keep_their_country(value, key):
    assert org_key(value) == key


@pytest.mark.parametrize(("value", "key"), [
    ("556677-8898", "?5566778898"),  # Swedish check digit wrong
    ("SE556677889801", "?SE556677889801"),
    (f"DK{BAD_CVR}", f"?DK{BAD_CVR}"),
    ("923609017", "?923609017"),  # Norwegian check digit wrong
    ("12-34", "?1234"),
    ("abc 123", "?ABC123"),
])
def test_numbers_no_check_digit_accepts_are_kept_as_unknown(value, key):
    assert org_key(value) == key


@pytest.mark.parametrize("value", [None, "", "   ", "\u00a0", "n/a", "-", True, float("nan"), Decimal("NaN"), object()])
def test_blank_or_unreadable_numbers_give_no_key(value):
    assert org_key(value) == ""


@pytest.mark.parametrize("value", ["556677-8899", CVR, NORWEGIAN, FINNISH, "ATU13585627", "556677-8898",
                                   f"DK{BAD_CVR}", "abc 123"])
def test_a_key_is_its_own_key(value):
    assert org_key(org_key(value)) == org_key(value)


def test_unknown_country_agrees_on_the_same_national_part():
    assert org_keys_agree(f"?{BAD_CVR}", f"?DK{BAD_CVR}") is True
    assert org_keys_agree("?12345678", "DK12345678") is True
    assert org_keys_agree("?12345678", "DK12345679") is False


def test_keys_of_different_countries_disagree_and_blank_is_undecided():
    assert org_keys_agree(f"DK{CVR}", "SE5566778899") is False
    assert org_keys_agree("SE5566778899", "SE5566778899") is True
    assert org_keys_agree("", "SE5566778899") is None
    assert org_keys_agree("SE5566778899", "") is None


# --- org_number_spellings -------------------------------------------------------------------------------


def test_spellings_of_a_swedish_number():
    assert org_number_spellings("5566778899") == ["5566778899", "556677-8899", "SE556677889901"]
    assert org_number_spellings("SE556677889901") == ["5566778899", "556677-8899", "SE556677889901"]


def test_spellings_of_a_danish_number():
    pairs = " ".join(CVR[i:i + 2] for i in range(0, 8, 2))
    assert org_number_spellings(f"DK{CVR}") == [CVR, f"DK{CVR}", f"DK {pairs}", pairs]
    assert org_number_spellings(f"DK-{CVR}") == [CVR, f"DK{CVR}", f"DK {pairs}", pairs, f"DK-{CVR}"]


def test_spellings_of_norwegian_and_finnish_numbers():
    assert org_number_spellings("NO923609016MVA") == ["923609016", "923 609 016", "NO923609016MVA"]
    assert org_number_spellings("FI20774740") == ["2077474-0", "20774740", "FI20774740"]


def test_spellings_of_an_unknown_number_are_the_value_as_given():
    assert org_number_spellings("  556677-8898 ") == ["556677-8898"]
    assert org_number_spellings(None) == []
    assert org_number_spellings("n/a") == []


def test_spellings_are_few_and_distinct():
    for value in ["5566778899", CVR, NORWEGIAN, FINNISH, "ATU13585627", "abc 1"]:
        spellings = org_number_spellings(value)
        assert 1 <= len(spellings) <= 5
        assert len(set(spellings)) == len(spellings)
        assert all(org_keys_agree(org_key(s), org_key(value)) for s in spellings), spellings


# --- e-mail and phone -----------------------------------------------------------------------------------


def test_email_key_trims_and_folds_case():
    assert email_key("mette.nielsen@havbrise.dk ") == email_key("Mette.Nielsen@Havbrise.dk") == \
        "mette.nielsen@havbrise.dk"


def test_email_key_removes_unicode_spaces_also_inside_angle_brackets():
    assert email_key("Mette Nielsen < Mette.Nielsen@Havbrise.dk\u00a0>") == "mette.nielsen@havbrise.dk"
    assert email_key("\u2003mette.nielsen@havbrise.dk\u200b") == "mette.nielsen@havbrise.dk"
    assert email_key("mailto:Mette.Nielsen@Havbrise.dk") == "mette.nielsen@havbrise.dk"


@pytest.mark.parametrize("value", [None, "", "  ", "-", "n/a", "@havbrise.dk", "mette@", 42])
def test_email_key_of_blank_or_no_address_is_empty(value):
    assert email_key(value) == ""


def test_different_addresses_give_different_keys():
    assert email_key("mette@havbrise.dk") != email_key("mette@havbrise.se")


def test_phone_key_gives_e164_with_the_region_for_local_numbers():
    assert phone_key("12 34 56 78") == "+4512345678"
    assert phone_key(12345678) == "+4512345678"
    assert phone_key("+45 12 34 56 78") == "+4512345678"
    assert phone_key("0045 1234 5678") == "+4512345678"
    assert phone_key("070-123 45 67", region="SE") == phone_key("+46 70 123 45 67") == "+46701234567"


def test_phone_key_falls_back_to_digits_and_blank():
    assert phone_key("070-123 45 67") == "0701234567"  # no Danish number has ten digits
    assert phone_key("12", region="??") == "12"
    assert phone_key(None) == ""
    assert phone_key(" - ") == ""


# --- names ----------------------------------------------------------------------------------------------


def test_swedish_legal_forms_are_removed():
    assert name_key("Björkdal Bygg AB") == name_key("Björkdal Bygg Aktiebolag") == "björkdal bygg"
    assert name_key("AB Björkdal Bygg") == "björkdal bygg"
    assert name_key("Björkdal Bygg HB") == name_key("Björkdal Bygg Handelsbolag") == name_key("Björkdal Bygg KB")
    assert name_key("Per Olsson Enskild firma") == "per olsson"


def test_danish_norwegian_finnish_and_other_legal_forms_are_removed():
    assert name_similarity("Havbrise Byg ApS", "HAVBRISE BYG A/S") == 100
    expected = "havbrise byg"
    for name in ["Havbrise Byg I/S", "Havbrise Byg IVS", "Havbrise Byg K/S", "Havbrise Byg P/S", "Havbrise Byg Aps",
                 "Havbrise Byg AS", "Havbrise Byg ASA", "Havbrise Byg Oy", "Havbrise Byg Oyj", "Havbrise Byg GmbH",
                 "Havbrise Byg Ltd.", "Havbrise Byg Limited", "Havbrise Byg, Inc.", "Havbrise Byg LLC",
                 "Havbrise Byg & Co.", "Havbrise Byg og Co A/S", "Havbrise Byg a.m.b.a."]:
        assert name_key(name) == expected, name


def test_names_keep_their_letters_and_fold_punctuation_and_space():
    assert name_key("  Sjöviks   VVS-Service AB ") == "sjöviks vvs service"
    assert name_key("Sjo\u0308viks VVS") == name_key("Sjöviks VVS")  # decomposed ö
    assert name_key("Øster Ås") == "øster ås"
    assert name_key("Øster Ås") != name_key("Oster As")
    assert name_key("Is & Kaffe I/S") == "is kaffe"


def test_a_name_that_is_only_a_legal_form_is_not_blank():
    assert name_key("AB") == "ab"
    assert name_key(None) == name_key("") == name_key(" ") == ""


def test_name_similarity_bounds():
    assert name_similarity("Sjöviks VVS AB", "Annan Kund AB") < DIFFERENT_NAME
    assert name_similarity("Mette Nielsen", "Nielsen, Mette") == 100
    assert DIFFERENT_NAME <= name_similarity("Havbrise Byggeri", "Havbrise Byg") < 100
    assert name_similarity("Havbrise", None) == 0
    assert name_similarity("", "") == 0


# --- weigh: organisations -------------------------------------------------------------------------------


def _weigh_org(source, candidate, found_by):
    return weigh("organisation", source, candidate, source_name="webCRM", candidate_name="Fortnox",
                 found_by=found_by)


def test_same_customer_number_with_different_org_number_and_name_is_contradicted():
    evidence = _weigh_org({"number": "1001", "vat": "556677-8899", "name": "Sjöviks VVS AB"},
                          {"number": 1001, "vat": "556012-3456", "name": "Annan Kund AB"}, "number")
    assert evidence.verdict == "contradicted"
    assert not evidence.proven
    assert "different org. number: 556677-8899 in webCRM, 556012-3456 in Fortnox" in evidence.against
    assert "clearly different name: 'Sjöviks VVS AB' in webCRM, 'Annan Kund AB' in Fortnox" in evidence.against
    assert "same customer number 1001" in evidence.for_


def test_same_org_number_in_two_spellings_and_same_name_is_proven_and_strong():
    evidence = _weigh_org({"vat": "556677-8899", "name": "Björkdal Bygg AB"},
                          {"vat": "5566778899", "name": "Björkdal Bygg Aktiebolag"}, "vat")
    assert isinstance(evidence, Evidence)
    assert evidence.verdict == "proven" and evidence.proven and evidence.strong
    assert evidence.against == ()
    assert "same org. number 556677-8899" in evidence.for_


def test_same_number_with_clearly_different_name_and_one_sided_vat_is_contradicted():
    evidence = _weigh_org({"number": "1005", "name": "Odense Transport ApS", "vat": CVR},
                          {"number": "1005", "name": "Uppsala Redovisning AB"}, "number")
    assert evidence.verdict == "contradicted"
    assert any("Odense Transport ApS" in reason and "Uppsala Redovisning AB" in reason for reason in evidence.against)


def test_same_org_number_with_clearly_different_name_is_contradicted():
    evidence = _weigh_org({"vat": CVR, "name": "Havbrise Byg ApS"},
                          {"vat": f"DK{CVR}", "name": "Uppsala Redovisning AB"}, "vat")
    assert evidence.verdict == "contradicted" and evidence.strong


def test_a_match_by_org_number_adopts_even_when_customer_numbers_differ():
    evidence = _weigh_org({"number": "1001", "vat": "556677-8899", "name": "Sjöviks VVS AB"},
                          {"number": "2002", "vat": "SE556677889901", "name": "Sjöviks VVS Aktiebolag"}, "vat")
    assert evidence.proven
    assert evidence.against == ()


def test_a_match_by_name_with_another_customer_number_is_contradicted():
    evidence = _weigh_org({"number": "1001", "name": "Sjöviks VVS AB"},
                          {"number": "2002", "name": "Sjöviks VVS AB"}, "name")
    assert evidence.verdict == "contradicted"
    assert "different customer number: 1001 in webCRM, 2002 in Fortnox" in evidence.against


def test_a_match_by_number_with_nothing_else_to_compare_is_proven_but_not_strong():
    evidence = _weigh_org({"number": " 1001 "}, {"number": Decimal("1001")}, "number")
    assert evidence.proven and not evidence.strong


def test_a_match_by_name_needs_the_same_name():
    same = _weigh_org({"name": "Havbrise Byg ApS"}, {"name": "HAVBRISE BYG A/S"}, "name")
    assert same.proven and not same.strong
    similar = _weigh_org({"name": "Havbrise Byggeri ApS"}, {"name": "Havbrise Byg A/S"}, "name")
    assert similar.verdict == "weak"
    assert similar.against == ()
    assert any(reason.startswith("similar name") for reason in similar.for_)


def test_different_org_numbers_contradict_a_same_name_match():
    evidence = _weigh_org({"name": "Havbrise Byg ApS", "vat": CVR},
                          {"name": "Havbrise Byg A/S", "vat": "556677-8899"}, "name")
    assert evidence.verdict == "contradicted"


def test_email_and_phone_only_speak_for():
    evidence = _weigh_org({"email": "INFO@havbrise.dk", "phone": "12 34 56 78", "name": "Havbrise Byggeri"},
                          {"email": "info@havbrise.dk ", "phone": "+4512345678", "name": "Havbrise Byg"}, "email")
    assert evidence.strong
    assert "same e-mail info@havbrise.dk" in evidence.for_ and "same phone +4512345678" in evidence.for_
    assert evidence.verdict == "weak"
    different = _weigh_org({"email": "a@havbrise.dk", "phone": "11111111", "number": "7"},
                           {"email": "b@havbrise.dk", "phone": "22222222", "number": "7"}, "number")
    assert different.proven and different.against == ()


def test_nothing_to_compare_is_weak():
    evidence = _weigh_org({"vat": None, "name": " "}, {"number": "1"}, "number")
    assert evidence == Evidence(for_=(), against=(), verdict="weak", strong=False)


# --- weigh: persons, users, items and other entities ----------------------------------------------------


def test_person_with_the_same_email_in_other_spelling_is_proven():
    evidence = weigh("person", {"email": " Mette.Nielsen@Havbrise.dk", "name": "Mette Nielsen"},
                     {"email": "mette.nielsen@havbrise.dk\u00a0", "name": "Nielsen, Mette"},
                     source_name="webCRM", candidate_name="Uniconta", found_by="email")
    assert evidence.proven and evidence.strong
    assert "same e-mail mette.nielsen@havbrise.dk" in evidence.for_


def test_user_with_the_same_email_but_clearly_different_name_is_contradicted():
    evidence = weigh("user", {"email": "info@havbrise.dk", "name": "Mette Nielsen"},
                     {"email": "INFO@havbrise.dk", "name": "Jørgen Sørensen"},
                     source_name="webCRM", candidate_name="Visma.net", found_by="email")
    assert evidence.verdict == "contradicted"
    assert evidence.against == ("clearly different name: 'Mette Nielsen' in webCRM, 'Jørgen Sørensen' in Visma.net",)


def test_person_without_an_agreeing_email_is_not_proven():
    evidence = weigh("person", {"email": "mette@havbrise.dk", "name": "Mette Nielsen"},
                     {"email": "mn@havbrise.dk", "name": "Mette Nielsen"},
                     source_name="webCRM", candidate_name="Uniconta", found_by="name")
    assert evidence.verdict == "weak"


def test_item_with_the_same_number_is_proven():
    evidence = weigh("item", {"number": " ab-100 ", "name": "Skruer"}, {"number": "AB-100", "name": "Screws"},
                     source_name="Uniconta", candidate_name="webCRM", found_by="number")
    assert evidence.proven
    assert evidence.for_ == ("same item number ab-100",)


def test_item_with_another_number_is_contradicted_and_without_one_weak():
    other = weigh("item", {"number": "AB-100"}, {"number": "AB-101"}, source_name="Uniconta",
                  candidate_name="webCRM", found_by="name")
    assert other.verdict == "contradicted"
    blank = weigh("item", {"number": ""}, {"number": "AB-101"}, source_name="Uniconta", candidate_name="webCRM",
                  found_by="name")
    assert blank.verdict == "weak"


def test_other_entities_go_by_number():
    assert weigh("delivery", {"number": 12}, {"number": "12"}, source_name="webCRM", candidate_name="Uniconta",
                 found_by="number").proven
    assert weigh("delivery", {"number": 12}, {"number": "13"}, source_name="webCRM", candidate_name="Uniconta",
                 found_by="number").verdict == "contradicted"


@pytest.mark.parametrize("entity", ["organisation", "person", "item", "delivery", None, 42])
def test_weigh_never_raises_on_odd_input(entity):
    odd = {"number": object(), "vat": float("inf"), "name": b"\xff", "email": ["x"], "phone": Decimal("1E+30")}
    evidence = weigh(entity, odd, None, source_name=None, candidate_name="", found_by=None)  # type: ignore[arg-type]
    assert evidence.verdict in ("weak", "contradicted", "proven")
    assert not evidence.proven


def test_thresholds_are_ordered():
    assert DIFFERENT_NAME < SAME_NAME <= 100

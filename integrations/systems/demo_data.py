"""Deterministic, realistic demo data shared by every sandbox's ``seed_demo``.

The same generator feeds webCRM and the ERPs, so a part of the demo companies exists on both sides
(matched by customer number or CVR/organisation number) and the rest on one side only — which is
what a new customer's first sync really meets.

Every identifier is valid for its kind, as the vendors and Synkro's own identity rules check them:
CVR numbers pass the modulus-11 check, Swedish organisation numbers the Luhn check (and their VAT
numbers are ``SE`` + the number + ``01``), EANs and GLNs their GS1 check digit, phone numbers are
numbers of their country's plan, postcodes have the country's shape. Identifiers are derived from a
counter (never drawn at random) and are unique within one call; check digits come from python-stdnum.
Names, addresses and prices are drawn from seeded generators, so every run gives the same demo.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from stdnum import ean as gs1
from stdnum import luhn
from stdnum.dk import cvr

DANISH_PREFIXES = ["Nordlys", "Havbrise", "Skovly", "Fjordens", "Lindegaard", "Egholm", "Bøgely", "Solbakken",
                   "Kystens", "Møllers", "Østergaard", "Vestjysk", "Søndergaard", "Klitgaard", "Højby", "Aarslev"]
SWEDISH_PREFIXES = ["Fjällvind", "Björkdal", "Sjöviks", "Granhults", "Älvdalens", "Norrsken", "Lövsta",
                    "Ekbackens", "Strömsholms", "Hagaby", "Vårgårda", "Tallbackens"]
DANISH_TRADES = ["Byg", "Trælast", "VVS", "El-service", "Tømrer", "Maskinstation", "Revision", "Catering",
                 "Handel", "Transport", "Autoværksted", "Blomster"]
SWEDISH_TRADES = ["Bygg", "Trä", "VVS", "Elservice", "Snickeri", "Maskin", "Revision", "Catering", "Handel",
                  "Transport", "Bilverkstad", "Blommor"]
DANISH_FORMS = ["A/S", "ApS", "I/S", "& Søn"]
SWEDISH_FORMS = ["AB", "HB", "& Son AB"]
#: (postcode, town, first two digits of a local landline). Danish numbers are 8 digits without area codes;
#: the pairs are only the ones such towns' landlines commonly start with.
DANISH_CITIES = [("1050", "København K", "33"), ("8000", "Aarhus C", "86"), ("5000", "Odense C", "66"),
                 ("9000", "Aalborg", "98"), ("6700", "Esbjerg", "75"), ("7100", "Vejle", "75"),
                 ("4000", "Roskilde", "46"), ("8700", "Horsens", "75"), ("3400", "Hillerød", "48"),
                 ("6000", "Kolding", "76")]
#: (postcode "NNN NN", town, area code without the trunk 0).
SWEDISH_CITIES = [("111 20", "Stockholm", "8"), ("411 05", "Göteborg", "31"), ("211 20", "Malmö", "40"),
                  ("753 20", "Uppsala", "18"), ("702 10", "Örebro", "19"), ("581 83", "Linköping", "13"),
                  ("901 84", "Umeå", "90")]
#: First two digits of Danish mobile numbers (the national numbering plan's mobile series).
DANISH_MOBILE_PREFIXES = ["20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "40", "41", "42",
                          "50", "51", "52", "53", "60", "61", "71", "81", "91", "92", "93"]
#: Swedish mobile series (070, 072, 073, 076, 079 without the trunk 0).
SWEDISH_MOBILE_PREFIXES = ["70", "72", "73", "76", "79"]
#: The demo firm's GS1 company prefixes: 57 is GS1 Denmark; one for item barcodes, one for debtors' GLNs.
ITEM_GS1_PREFIX = "5706021"
DEBTOR_GLN_PREFIX = "5790002"
#: Swedish organisation numbers start with the legal form's group digit (5 aktiebolag, 9 handelsbolag) and
#: have a third digit of 2 or more; these prefixes are the common ones of new companies.
SWEDISH_ORGNR_PREFIX = {"AB": "559", "HB": "969"}
#: Walks the counter through a fixed permutation of the numbers (coprime with 9·10ⁿ, so no two counters meet).
_STRIDE = 7_368_787
DANISH_STREETS = ["Strandvejen", "Vestergade", "Nørregade", "Algade", "Bredgade", "Havnevej", "Skovvej",
                  "Industrivej", "Møllevej", "Kirkevej"]
SWEDISH_STREETS = ["Storgatan", "Drottninggatan", "Kungsgatan", "Sveavägen", "Hamngatan", "Industrivägen",
                   "Skolgatan", "Kyrkogatan"]
FIRST_NAMES_DK = ["Mette", "Lars", "Sofie", "Anders", "Camilla", "Søren", "Ida", "Jens", "Freja", "Mads",
                  "Line", "Rasmus", "Louise", "Niels"]
FIRST_NAMES_SE = ["Anna", "Erik", "Karin", "Johan", "Maria", "Lars", "Elin", "Per", "Sara", "Nils", "Linnéa"]
LAST_NAMES_DK = ["Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
                 "Rasmussen", "Jørgensen", "Madsen", "Kristensen"]
LAST_NAMES_SE = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
                 "Svensson", "Gustafsson", "Lindqvist", "Björk"]
TITLES = ["Indkøbschef", "Direktør", "Bogholder", "Projektleder", "Salgschef", "Økonomiansvarlig"]
PRODUCT_LINES = [("Arbejdsjakke", "stk"), ("Sikkerhedssko", "par"), ("Skruer 5x50", "pk"), ("Trælim", "stk"),
                 ("Kabel 3x1,5", "m"), ("Konsulenttime", "time"), ("Malerrulle", "stk"), ("Høreværn", "stk"),
                 ("Strik-trøje", "stk"), ("Regnbukser", "stk"), ("Termokande", "stk"), ("Kaffebønner 1 kg", "pk")]
SIZES = ["S", "M", "L", "XL"]
COLOURS = ["Sort", "Navy", "Grå", "Rød"]


@dataclass(frozen=True)
class DemoCompany:
    number: str
    name: str
    #: CVR (DK, 8 digits) or organisation number (SE, NNNNNN-NNNN).
    reg_no: str
    vat_number: str
    address: str
    zip_code: str
    city: str
    country_code: str
    #: As webCRM shows countries: a localised name, not an ISO code.
    country_name: str
    phone: str
    email: str
    www: str
    currency: str
    #: "company" or "private" (Fortnox's COMPANY/PRIVATE).
    kind: str = "company"


@dataclass(frozen=True)
class DemoPerson:
    first_name: str
    last_name: str
    email: str
    phone: str
    mobile: str
    title: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class DemoProduct:
    number: str
    name: str
    unit: str
    cost_price: Decimal
    list_price: Decimal
    ean: str
    style_no: str
    size: str
    colour: str


@dataclass(frozen=True)
class DemoEmployee:
    number: str
    first_name: str
    last_name: str
    email: str
    mobile: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def _spread(counter: int, digits: int, *, seed: int) -> str:
    """The ``counter``-th of a fixed shuffle of the ``digits``-digit numbers with no leading zero.

    Counters below 9·10^(digits-1) give distinct numbers; the shuffle only makes neighbours look unrelated.
    """
    span = 9 * 10 ** (digits - 1)
    return str(10 ** (digits - 1) + (counter * _STRIDE + seed * 2_654_435) % span)


def ean13(prefix: str, reference: int) -> str:
    """EAN-13 / GLN: ``prefix`` (GS1 company prefix) + ``reference`` zero-padded to 12 digits + check digit.

    Raises ValueError when the reference does not fit beside the prefix.
    """
    body = f"{prefix}{reference:0{12 - len(prefix)}d}"
    if len(body) != 12:
        raise ValueError(f"{reference} does not fit a 13-digit EAN after {prefix}")
    return body + gs1.calc_check_digit(body)


def danish_cvr_numbers(*, seed: int = 7) -> Iterator[str]:
    """CVR numbers (8 digits, modulus-11 check per stdnum.dk.cvr), distinct, the same sequence for a seed.

    Seven-digit bases for which no check digit exists (the remainder would be 10) are passed over.
    """
    counter = 0
    while True:
        base = _spread(counter, 7, seed=seed)
        counter += 1
        number = next((base + digit for digit in "0123456789" if cvr.is_valid(base + digit)), None)
        if number is not None:
            yield number


def swedish_org_number(counter: int, *, form: str = "AB", seed: int = 7) -> str:
    """``NNNNNN-NNNN`` with a Luhn check digit (stdnum.se.orgnr); distinct for distinct counters of one form."""
    prefix = SWEDISH_ORGNR_PREFIX.get(form, SWEDISH_ORGNR_PREFIX["AB"])
    body = prefix + _spread(counter, 6, seed=seed)
    number = body + luhn.calc_check_digit(body)
    return f"{number[:6]}-{number[6:]}"


def danish_phone(rng: random.Random, leading: str | None = None) -> str:
    """``+45 NN NN NN NN``; a landline starting with ``leading`` or, without it, a mobile number."""
    first = leading or rng.choice(DANISH_MOBILE_PREFIXES)
    # The numbering plan has no numbers whose third digit is 0 (phonenumbers' Danish metadata).
    return f"+45 {first} {rng.randrange(10, 100)} {rng.randrange(100):02d} {rng.randrange(100):02d}"


def swedish_phone(rng: random.Random, area: str | None = None) -> str:
    """A Swedish landline of ``area`` (``+46 8 NNN NN NN``, ``+46 31 NNN NN NN``) or, without it, a mobile."""
    first = area or rng.choice(SWEDISH_MOBILE_PREFIXES)  # then seven digits, as both kinds have
    return f"+46 {first} {rng.randrange(100, 1000)} {rng.randrange(10, 100)} {rng.randrange(10, 100)}"


def companies(count: int, *, country: str = "DK", seed: int = 7, first_number: int = 10001) -> Iterator[DemoCompany]:
    """``count`` companies of ``country`` (DK or SE); the same arguments give the same companies.

    The n-th company of a country and seed always has the same name and CVR/organisation number (whatever
    ``count`` and ``first_number``), so the same company shows up in every sandbox that seeds it.
    """
    rng = random.Random(f"{seed}-{country}")
    cvr_numbers = danish_cvr_numbers(seed=seed)
    danish = country == "DK"
    prefixes, trades, forms = ((DANISH_PREFIXES, DANISH_TRADES, DANISH_FORMS) if danish
                               else (SWEDISH_PREFIXES, SWEDISH_TRADES, SWEDISH_FORMS))
    cities, streets = (DANISH_CITIES, DANISH_STREETS) if danish else (SWEDISH_CITIES, SWEDISH_STREETS)
    seen: set[str] = set()
    for index in range(count):
        prefix, trade, form = rng.choice(prefixes), rng.choice(trades), rng.choice(forms)
        name = f"{prefix} {trade} {form}"
        while name in seen:
            name = f"{name.rsplit(' ', 1)[0]} {index} {name.rsplit(' ', 1)[1]}"
        seen.add(name)
        zip_code, city, dialling = rng.choice(cities)
        slug = "".join(ch for ch in name.lower().split()[0] if ch.isalpha()).translate(
            str.maketrans("æøåäöé", "aoaaoe"))
        if danish:
            reg_no = next(cvr_numbers)
            vat, currency, country_name = f"DK{reg_no}", "DKK", "Danmark"
            phone = danish_phone(rng, dialling)
        else:
            reg_no = swedish_org_number(index, form=form.rsplit(" ", 1)[-1], seed=seed)
            vat = f"SE{reg_no.replace('-', '')}01"
            phone, currency, country_name = swedish_phone(rng, dialling), "SEK", "Sverige"
        if rng.random() < 0.08:
            currency = "EUR"
        yield DemoCompany(
            number=str(first_number + index), name=name, reg_no=reg_no, vat_number=vat,
            address=f"{rng.choice(streets)} {rng.randrange(1, 180)}", zip_code=zip_code, city=city,
            country_code=country, country_name=country_name, phone=phone,
            email=f"info@{slug}{index}.{'dk' if danish else 'se'}", www=f"www.{slug}{index}.{'dk' if danish else 'se'}",
            currency=currency, kind="private" if rng.random() < 0.1 else "company",
        )


def people(company: DemoCompany, count: int, *, seed: int = 7) -> Iterator[DemoPerson]:
    """Contact persons of ``company``; e-mails are unique per company."""
    rng = random.Random(f"{seed}-{company.number}")
    danish = company.country_code == "DK"
    firsts, lasts = (FIRST_NAMES_DK, LAST_NAMES_DK) if danish else (FIRST_NAMES_SE, LAST_NAMES_SE)
    domain = company.email.split("@", 1)[1]
    for index in range(count):
        first, last = rng.choice(firsts), rng.choice(lasts)
        local = f"{first}.{last}{index}".lower().translate(str.maketrans("æøåäöé", "aoaaoe"))
        yield DemoPerson(first_name=first, last_name=last, email=f"{local}@{domain}",
                         phone=company.phone, mobile=danish_phone(rng) if danish else swedish_phone(rng),
                         title=rng.choice(TITLES))


def products(count: int, *, seed: int = 7, first_number: int = 1001) -> Iterator[DemoProduct]:
    """Items; every fourth style comes in sizes and colours (variants share a style number).

    The EAN is the demo firm's GS1 prefix + the item number + check digit: one item number, one barcode.
    """
    rng = random.Random(f"{seed}-products")
    for index in range(count):
        name, unit = PRODUCT_LINES[index % len(PRODUCT_LINES)]
        cost = Decimal(rng.randrange(500, 90000)) / 100
        style = f"ST{100 + index // 4}"
        yield DemoProduct(
            number=str(first_number + index), name=f"{name} {index // len(PRODUCT_LINES) + 1}", unit=unit,
            cost_price=cost, list_price=(cost * Decimal("1.6")).quantize(Decimal("0.01")),
            ean=ean13(ITEM_GS1_PREFIX, first_number + index),
            style_no=style, size=SIZES[index % 4], colour=COLOURS[(index // 4) % 4],
        )


def employees(count: int, *, country: str = "DK", seed: int = 7) -> Iterator[DemoEmployee]:
    """The demo firm's staff: Nordlys Handel in Denmark (DK), Fjällvind in Sweden (SE); e-mails are unique."""
    rng = random.Random(f"{seed}-employees-{country}")
    danish = country == "DK"
    firsts, lasts = (FIRST_NAMES_DK, LAST_NAMES_DK) if danish else (FIRST_NAMES_SE, LAST_NAMES_SE)
    domain = "nordlys-demo.dk" if danish else "fjallvind-demo.se"
    for index in range(count):
        first, last = rng.choice(firsts), rng.choice(lasts)
        local = f"{first[0]}{last}".lower().translate(str.maketrans("æøåäöé", "aoaaoe"))
        yield DemoEmployee(number=str(index + 1), first_name=first, last_name=last, email=f"{local}{index}@{domain}",
                           mobile=danish_phone(rng) if danish else swedish_phone(rng))

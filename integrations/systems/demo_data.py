"""Deterministic, realistic demo data shared by every sandbox's ``seed_demo``.

The same generator feeds webCRM and the ERPs, so a part of the demo companies exists on both sides
(matched by customer number or CVR/organisation number) and the rest on one side only — which is
what a new customer's first sync really meets.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

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
DANISH_CITIES = [("1050", "København K"), ("8000", "Aarhus C"), ("5000", "Odense C"), ("9000", "Aalborg"),
                 ("6700", "Esbjerg"), ("7100", "Vejle"), ("4000", "Roskilde"), ("8700", "Horsens"),
                 ("3400", "Hillerød"), ("6000", "Kolding")]
SWEDISH_CITIES = [("111 20", "Stockholm"), ("411 05", "Göteborg"), ("211 20", "Malmö"), ("753 20", "Uppsala"),
                  ("702 10", "Örebro"), ("581 83", "Linköping"), ("901 84", "Umeå")]
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


def _ean13(rng: random.Random) -> str:
    digits = [5, 7] + [rng.randrange(10) for _ in range(10)]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, [*digits, check]))


def companies(count: int, *, country: str = "DK", seed: int = 7, first_number: int = 10001) -> Iterator[DemoCompany]:
    """``count`` companies of ``country`` (DK or SE); the same arguments give the same companies."""
    rng = random.Random(f"{seed}-{country}")
    danish = country == "DK"
    prefixes, trades, forms = ((DANISH_PREFIXES, DANISH_TRADES, DANISH_FORMS) if danish
                               else (SWEDISH_PREFIXES, SWEDISH_TRADES, SWEDISH_FORMS))
    cities, streets = (DANISH_CITIES, DANISH_STREETS) if danish else (SWEDISH_CITIES, SWEDISH_STREETS)
    seen: set[str] = set()
    for index in range(count):
        name = f"{rng.choice(prefixes)} {rng.choice(trades)} {rng.choice(forms)}"
        while name in seen:
            name = f"{name.rsplit(' ', 1)[0]} {index} {name.rsplit(' ', 1)[1]}"
        seen.add(name)
        zip_code, city = rng.choice(cities)
        slug = "".join(ch for ch in name.lower().split()[0] if ch.isalpha()).translate(
            str.maketrans("æøåäö", "aoaao"))
        if danish:
            reg_no = f"{rng.randrange(10_000_000, 99_999_999)}"
            vat, currency, country_name = f"DK{reg_no}", "DKK", "Danmark"
            phone = "+45 " + " ".join(str(rng.randrange(10, 99)) for _ in range(4))
        else:
            reg_no = f"{rng.randrange(550000, 559999)}-{rng.randrange(1000, 9999)}"
            vat = f"SE{reg_no.replace('-', '')}01"
            phone, currency, country_name = f"+46 8 {rng.randrange(100, 999)} {rng.randrange(10, 99)} " \
                f"{rng.randrange(10, 99)}", "SEK", "Sverige"
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
                         phone=company.phone, mobile=f"+45 {rng.randrange(20, 99)} {rng.randrange(100000, 999999)}"
                         if danish else f"+46 70 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
                         title=rng.choice(TITLES))


def products(count: int, *, seed: int = 7, first_number: int = 1001) -> Iterator[DemoProduct]:
    """Items; every fourth style comes in sizes and colours (variants share a style number)."""
    rng = random.Random(f"{seed}-products")
    for index in range(count):
        name, unit = PRODUCT_LINES[index % len(PRODUCT_LINES)]
        cost = Decimal(rng.randrange(500, 90000)) / 100
        style = f"ST{100 + index // 4}"
        yield DemoProduct(
            number=str(first_number + index), name=f"{name} {index // len(PRODUCT_LINES) + 1}", unit=unit,
            cost_price=cost, list_price=(cost * Decimal("1.6")).quantize(Decimal("0.01")), ean=_ean13(rng),
            style_no=style, size=SIZES[index % 4], colour=COLOURS[(index // 4) % 4],
        )


def employees(count: int, *, country: str = "DK", seed: int = 7) -> Iterator[DemoEmployee]:
    rng = random.Random(f"{seed}-employees-{country}")
    firsts, lasts = (FIRST_NAMES_DK, LAST_NAMES_DK) if country == "DK" else (FIRST_NAMES_SE, LAST_NAMES_SE)
    for index in range(count):
        first, last = rng.choice(firsts), rng.choice(lasts)
        local = f"{first[0]}{last}".lower().translate(str.maketrans("æøåäöé", "aoaaoe"))
        yield DemoEmployee(number=str(index + 1), first_name=first, last_name=last,
                           email=f"{local}{index}@nordlys-demo.dk", mobile=f"+45 {rng.randrange(20000000, 99999999)}")

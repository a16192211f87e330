"""English articles for messages built from parts, shared by the systems' clients and the engine.

"an organisation", "a user", "an SO", "a POS sale", "a Uniconta debtor": chosen by how the word is said, not by its
first letter alone. No Django, no vendor: any layer may use it (``integrations.engine.wording`` builds on it).
"""

from __future__ import annotations

#: Letters whose spoken name starts with a vowel sound: "an SO", "an EAN", "an HR record", but "a POS sale".
_VOWEL_SOUND_LETTERS = frozenset("AEFHILMNORSX")
#: Words spelt with a vowel but said with a consonant ("a user", "a Uniconta debtor", "a one-off"), and the
#: reverse ("an hour"). Checked on the lower-cased word.
_CONSONANT_SOUND_STARTS = ("uni", "use", "usa", "usu", "uti", "ure", "uro", "eu", "ewe", "one", "once")
_VOWEL_SOUND_STARTS = ("hour", "honest", "honour", "honor", "heir")


def indefinite_article(phrase: str) -> str:
    """“a” or “an” for ``phrase`` as it is said: "an organisation", "a user", "an SO", "a POS sale", "a webCRM
    organisation", "an 8-digit number". Quotes and brackets in front are skipped. Lower case; see ``with_article``."""
    text = phrase.strip().lstrip("“”\"'‘’([")
    if not text:
        return "a"
    word = text.split()[0]
    if word[:1].isdigit():  # said with a vowel first: 8, 80, 800…, 11, 18, 11 000… ("an 8-digit number")
        digits = "".join(c for c in word if c.isdigit())
        said_with_vowel = digits.startswith("8") or (digits[:2] in ("11", "18") and len(digits) % 3 == 2)
        return "an" if said_with_vowel else "a"
    letters = "".join(c for c in word if c.isalpha())
    if len(letters) > 1 and letters.isupper():  # an acronym, said letter by letter
        return "an" if letters[0] in _VOWEL_SOUND_LETTERS else "a"
    lower = word.lower()
    if lower.startswith(_VOWEL_SOUND_STARTS):
        return "an"
    if lower.startswith(_CONSONANT_SOUND_STARTS):
        return "a"
    return "an" if lower[:1] in "aeiou" else "a"


def with_article(phrase: str, *, capital: bool = False) -> str:
    """``phrase`` with its indefinite article in front: "an organisation"; "An organisation" with ``capital``."""
    article = indefinite_article(phrase)
    return f"{article.capitalize() if capital else article} {phrase}"


def joined(items: list[str]) -> str:
    """Items in running text: "12", "12 and 15", "12, 15 and 19"; "" for none."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"

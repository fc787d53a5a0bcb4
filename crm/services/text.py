"""Text folding for case- and accent-insensitive matching.

One rule, `normalize`, folds both what is stored (`name_norm`, `search_text`) and what is looked
for (a `q`, a `contact_name`): every letter is reduced to its Latin transliteration (Unidecode),
so "soren" finds "Søren", "lukasiewicz" "Łukasiewicz", "strasse" "Straße" and "ivan" "Иван".
Chinese, Japanese and Korean are kept as written: their transliteration is a reading (北京 would
become "bei jing", and "jing" would then find every 京), so they are found as typed.
"""

import re
import unicodedata

from unidecode import unidecode

# Han (with its radicals, symbols and extensions), kana, Bopomofo, Hangul, Yi, and the
# half-width forms of kana and Hangul.
_KEPT = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u303f\u3040-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff61-\uffdc\U00020000-\U0003ffff]+"
)


def _transliterate(text: str) -> str:
    # Marks first (what NFKD splits off, and Arabic or Hebrew vowel signs written separately),
    # so a letter written with or without them folds alike; characters Unidecode has no
    # transliteration for (emoji) stay as they are rather than vanish.
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unidecode(stripped, errors="preserve")


def normalize(text: str | None) -> str:
    """Transliterated, lower-cased, white space folded: "  Søren  Åberg" -> "soren aberg"."""
    if not text:
        return ""
    if text.isascii():  # nothing to transliterate: the common case, kept fast for bulk imports
        return " ".join(text.casefold().split())
    parts, end = [], 0
    for kept in _KEPT.finditer(text):
        parts.append(_transliterate(text[end:kept.start()]))
        parts.append(unicodedata.normalize("NFKC", kept.group()))  # half-width kana as full
        end = kept.end()
    parts.append(_transliterate(text[end:]))
    return " ".join("".join(parts).casefold().split())


def normalize_to(text: str | None, length: int) -> str:
    """`normalize(text)` cut to a column's `length`: a transliteration may be longer than what
    it spells ("Щ" is "shch"), and a name is matched on its first `length` folded characters."""
    return normalize(text)[:length].rstrip()


def search_text(*parts: str | None) -> str:
    """The normalised text a `q` search looks in."""
    return "\n".join(normalize(p) for p in parts if p)

"""Text normalisation for case- and accent-insensitive matching."""

import unicodedata


def normalize(text: str | None) -> str:
    """Lower-case, accents stripped, white space folded: "  Hans  Müller" -> "hans muller"."""
    if not text:
        return ""
    if text.isascii():  # nothing to decompose: the common case, kept fast for bulk imports
        return " ".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def search_text(*parts: str | None) -> str:
    """The normalised text a `q` search looks in."""
    return "\n".join(normalize(p) for p in parts if p)

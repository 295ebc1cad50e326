"""Name normalisation: any name, in any script, to lower-case ASCII tokens, and a consonant skeleton.

`normalise("N.S.O. Group Technologies, Ltd.")` is `"nso group technologies ltd"`;
`normalise("Тал Дилиан")` is `"tal dilian"`; `normalise("Ιντελλέξα")` is `"intellexa"`.

Steps, in order (each step is idempotent, so `normalise(normalise(x)) == normalise(x)`):

1. Unicode NFKC (full-width letters, ligatures, compatibility forms) and case folding ("ß" -> "ss").
2. Accents, Hebrew vowel points and Arabic harakat are dropped; control and format characters (the
   right-to-left marks common in Hebrew text) vanish; other punctuation and symbols become spaces.
3. Transliteration to Latin with anyascii. Cyrillic and Greek come out well ("Тал Дилиан" -> "tal dilian";
   Greek digraphs such as "ου" and word-initial "μπ" are read as "ou" and "b" first). Hebrew and Arabic
   are abjads: vowels are not written, so "טל דיליאן" becomes "tl dylyn" and can never equal "tal dilian".
   For those scripts compare consonant skeletons (see `skeleton`), never the letters.
4. Dotted acronyms are joined ("N.S.O." -> "nso", "S.A." -> "sa"), other dots split words, apostrophes
   vanish ("O'Brien" -> "obrien"), and runs of single letters are joined ("N S O" -> "nso").
"""

# Greek, Cyrillic and Hebrew letters are this module's data, not look-alike typos:
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

from anyascii import anyascii

# Combining marks we drop before transliterating: Latin/Greek/Cyrillic accents, Cyrillic titlo, Hebrew
# points and cantillation, Arabic harakat. Marks of other scripts (Indic vowel signs) carry letters and
# are left to anyascii.
_DROPPED_MARKS: Final = ((0x0300, 0x036F), (0x0483, 0x0489), (0x0591, 0x05C7), (0x0610, 0x061A))
_DROPPED_MARKS_2: Final = ((0x064B, 0x065F), (0x0670, 0x0670), (0x06D6, 0x06ED))
_APOSTROPHES: Final = "'`\u2018\u2019\u02bb\u02bc\u02b9\u05f3\u05f4\u00b4"
_KEEP_PUNCTUATION: Final = frozenset("." + _APOSTROPHES)

# Hebrew letters anyascii reads as a consonant that we read otherwise: bet as "b" (anyascii: "v", the
# soft form), vav as "w" like Arabic waw, because in names it is mostly a vowel letter (o/u).
_HEBREW: Final = str.maketrans({"\u05d1": "b", "\u05d5": "w"})

# Greek: anyascii reads letter by letter ("ου" -> "oy", "Μπίτζιος" -> "mpitzios"); names are read by
# digraph ("ou", word-initial "μπ" = "b", "ντ" = "d", "γκ" = "g"; "γγ" = "ng").
_GREEK_DIGRAPHS: Final = (
    (re.compile(r"ου"), "ou"),
    (re.compile(r"αυ"), "av"),
    (re.compile(r"ευ"), "ev"),
    (re.compile(r"γγ"), "ng"),
    (re.compile(r"(?<![\w])μπ"), "b"),
    (re.compile(r"(?<![\w])ντ"), "d"),
    (re.compile(r"(?<![\w])γκ"), "g"),
)
_GREEK_LETTER: Final = re.compile(r"[\u0370-\u03ff]")
_DOTTED_ACRONYM: Final = re.compile(r"[a-z0-9](?:\.[a-z0-9])+")
_NOT_ALNUM: Final = re.compile(r"[^a-z0-9. ]+")

# Hebrew and Arabic script blocks (with presentation forms): the abjads whose vowels are not written.
_ABJAD: Final = re.compile(
    r"[\u0590-\u05ff\ufb1d-\ufb4f\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]"
)


def is_abjad(text: str) -> bool:
    """True when the name is written (at least partly) in Hebrew or Arabic script: its vowels are not
    written, so it is compared by consonant skeleton rather than letter by letter."""
    return _ABJAD.search(text) is not None


def _dropped_mark(char: str) -> bool:
    point = ord(char)
    return any(lo <= point <= hi for lo, hi in _DROPPED_MARKS + _DROPPED_MARKS_2)


def _clean_char(char: str) -> str:
    """One character before transliteration: letters, digits and kept punctuation pass; controls and
    format characters vanish; other punctuation, symbols and separators become a space."""
    if char in _KEEP_PUNCTUATION:
        return char
    category = unicodedata.category(char)
    if category[0] in "LN":
        return char
    if category[0] == "M":
        return "" if _dropped_mark(char) else char
    return "" if category in ("Cc", "Cf", "Cs", "Co", "Cn") and char not in "\t\n\r" else " "


def _unicode_to_ascii(text: str) -> str:
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    text = unicodedata.normalize("NFC", "".join(_clean_char(c) for c in text))
    if _GREEK_LETTER.search(text):
        for pattern, latin in _GREEK_DIGRAPHS:
            text = pattern.sub(latin, text)
    return anyascii(text.translate(_HEBREW)).lower()


def _join_single_letters(tokens: list[str]) -> list[str]:
    joined: list[str] = []
    run = ""
    for token in [*tokens, ""]:
        if len(token) == 1:
            run += token
            continue
        if run:
            joined.append(run)
            run = ""
        if token:
            joined.append(token)
    return joined


@lru_cache(maxsize=65536)
def normalise(name: str) -> str:
    """The comparable form of a name: lower-case ASCII words separated by single spaces ("" when nothing
    comparable is left, e.g. for punctuation only)."""
    text = name.lower() if name.isascii() else _unicode_to_ascii(name)
    for apostrophe in _APOSTROPHES:
        text = text.replace(apostrophe, "")
    text = _NOT_ALNUM.sub(" ", text)
    tokens: list[str] = []
    for word in (w.strip(".") for w in text.split()):
        if _DOTTED_ACRONYM.fullmatch(word):
            tokens.append(word.replace(".", ""))
        else:
            tokens.extend(word.split("."))
    return " ".join(_join_single_letters([t for t in tokens if t]))


def tokens(name: str) -> tuple[str, ...]:
    """The words of the normalised name."""
    return tuple(normalise(name).split())


# Consonant skeleton: one coarse class per sound that Latin, Hebrew and Arabic spellings of a name share.
_SKELETON_DIGRAPHS: Final = (
    ("sch", "s"),
    ("dzh", "j"),
    ("zh", "j"),
    ("ph", "f"),
    ("ck", "k"),
    ("tz", "ts"),
    ("x", "ks"),
    ("q", "k"),
)
_SOFT_C: Final = re.compile(r"c(?=[eiy])")
_SKELETON_CLASSES: Final = str.maketrans({"c": "k", "p": "f", "v": "b", "z": "s"})
_NOT_CONSONANT: Final = re.compile(r"[aeiouywh]+")
_REPEATS: Final = re.compile(r"(.)\1+")


@lru_cache(maxsize=65536)
def skeleton_token(token: str) -> str:
    """The consonant skeleton of one normalised word: "dilian" -> "dln", "dylyn" (from Hebrew) -> "dln",
    "intellexa" -> "ntlks", "candiru" and "kndyrw" (Hebrew) -> "kndr". Vowels and the letters Hebrew and
    Arabic use as vowels (y, w, h) are dropped, similar consonants share one class (c/k/q, p/f, b/v,
    s/z), digraphs are read as one sound (ph, sh, th, kh, tz) and doubled letters count once."""
    for digraph, sound in _SKELETON_DIGRAPHS:
        token = token.replace(digraph, sound)
    token = _SOFT_C.sub("s", token).translate(_SKELETON_CLASSES)
    return _REPEATS.sub(r"\1", _NOT_CONSONANT.sub("", token))


def skeleton(name: str) -> str:
    """The consonant skeleton of a whole name, word by word: "Tal Dilian" and "טל דיליאן" both give
    "tl dln". Words with no consonant left are dropped."""
    return " ".join(s for s in (skeleton_token(t) for t in tokens(name)) if s)

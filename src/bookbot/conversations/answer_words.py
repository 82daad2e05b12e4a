"""The words `answers` reads, in English and Spanish, already folded (lower case, no accents).

Month and day names are not here: they come from Babel's locale data (`answers.calendar`).
Numbers, units and small words are plain tables: short, and the same in every region.
"""

from __future__ import annotations

import re
import unicodedata

# The longest text a parser reads; a longer message is not one short answer.
LIMIT = 200

NUMBER_WORDS = {
    "en": {
        "one": 1,
        "two": 2,
        "three": 3,
        "four": 4,
        "five": 5,
        "six": 6,
        "seven": 7,
        "eight": 8,
        "nine": 9,
        "ten": 10,
        "eleven": 11,
        "twelve": 12,
    },
    "es": {
        "uno": 1,
        "una": 1,
        "un": 1,
        "dos": 2,
        "tres": 3,
        "cuatro": 4,
        "cinco": 5,
        "seis": 6,
        "siete": 7,
        "ocho": 8,
        "nueve": 9,
        "diez": 10,
        "once": 11,
        "doce": 12,
    },
}

# Words after a number that make it a time ("6pm", "18h", "6 o'clock").
TIME_MARKS = frozenset({"am", "pm", "h", "hs", "hrs", "hr", "o", "oclock"})
# Words after a number that make it a party size ("2 people", "3 personas").
PARTY_UNITS = frozenset(
    {
        "people",
        "peeps",
        "ppl",
        "person",
        "persons",
        "pax",
        "guests",
        "guest",
        "adults",
        "adult",
        "of",  # "two of us"
        "seats",
        "seat",
        "places",
        "spots",
        "tickets",
        "personas",
        "persona",
        "pers",
        "gente",
        "adultos",
        "plazas",
        "plaza",
        "sitios",
        "entradas",
        "invitados",
    }
)
# Words before a number that make it a party size ("for 2", "para dos", "party of 4").
PARTY_LEADS = frozenset({"for", "para", "somos", "seremos", "x"})
PARTY_LEAD_PAIRS = frozenset(
    {
        ("party", "of"),
        ("group", "of"),
        ("table", "for"),
        ("we", "are"),
        ("we", "re"),
        ("there", "are"),
        ("grupo", "de"),
        ("un", "grupo"),
    }
)
# Whole answers meaning one person, or two.
ALONE = frozenset(
    {
        "me",
        "just me",
        "only me",
        "myself",
        "just myself",
        "me only",
        "me alone",
        "just 1",
        "only 1",
        "solo",
        "yo",
        "solo yo",
        "yo solo",
        "yo sola",
        "solo para mi",
        "solamente yo",
        "nada mas yo",
        "solo una persona",
        "para mi",
        "para mi solo",
        "para mi sola",
    }
)
# "me and my friend", "yo y mi pareja": the speaker and one companion word.
ME = frozenset({"me", "i", "myself", "yo", "mi"})
AND = frozenset({"and", "plus", "y", "con", "mas", "with", "e"})
COMPANIONS = frozenset(
    {
        "friend",
        "partner",
        "wife",
        "husband",
        "mum",
        "mom",
        "dad",
        "son",
        "daughter",
        "sister",
        "brother",
        "boyfriend",
        "girlfriend",
        "mate",
        "colleague",
        "amigo",
        "amiga",
        "pareja",
        "mujer",
        "marido",
        "esposa",
        "esposo",
        "novio",
        "novia",
        "madre",
        "padre",
        "hijo",
        "hija",
        "hermano",
        "hermana",
        "mama",
        "papa",
        "companero",
        "companera",
    }
)
# Words an answer may carry around what it says ("2 please", "para dos por favor").
FILLER = frozenset(
    {
        "please",
        "pls",
        "plz",
        "thanks",
        "thank",
        "you",
        "thx",
        "ta",
        "por",
        "favor",
        "porfa",
        "gracias",
        "ok",
        "okay",
        "hi",
        "hello",
        "hola",
        "just",
        "solo",
        "the",
        "a",
        "el",
        "la",
        "will",
        "be",
        "ll",
        "we",
        "us",
        "seremos",
        "somos",
        "vamos",
        "ser",
        "it",
        "s",
        "is",
        "es",
        "total",
        "in",
        "en",
        "um",
        "erm",
        "eh",
        "pues",
    }
)

YES = frozenset(
    {
        "yes",
        "y",
        "ye",
        "yea",
        "yeah",
        "yep",
        "yup",
        "yas",
        "yess",
        "yesss",
        "sure",
        "ok",
        "okay",
        "okey",
        "k",
        "kk",
        "confirm",
        "confirmed",
        "correct",
        "right",
        "absolutely",
        "definitely",
        "certainly",
        "perfect",
        "great",
        "fine",
        "alright",
        "aye",
        "si",
        "sip",
        "sii",
        "vale",
        "claro",
        "confirmar",
        "confirmo",
        "confirmado",
        "correcto",
        "perfecto",
        "dale",
        "venga",
        "va",
        "bueno",
        "exacto",
        "adelante",
        "obvio",
    }
)
YES_PHRASES = frozenset(
    {
        "de acuerdo",
        "por supuesto",
        "claro que si",
        "go ahead",
        "do it",
        "book it",
        "sounds good",
        "of course",
        "please do",
        "that s right",
        "thats right",
        "that s fine",
        "all good",
        "lets do it",
        "let s do it",
        "esta bien",
        "me parece bien",
        "todo bien",
        "asi es",
        "hazlo",
        "reservalo",
    }
)
NO = frozenset({"no", "n", "nope", "nah", "nop", "noo", "nooo", "negative", "nunca", "never"})
NO_PHRASES = frozenset(
    {
        "no thanks",
        "no thank you",
        "not now",
        "not really",
        "no way",
        "never mind",
        "nevermind",
        "no gracias",
        "mejor no",
        "ahora no",
        "para nada",
        "de ninguna manera",
        "todavia no",
        "not yet",
        "i don t think so",
        "dont",
        "don t",
    }
)
# A greeting alone ("hi there", "buenos días") is greeted back, never "not understood".
GREETINGS = frozenset(
    {"hi", "hello", "hey", "hiya", "howdy", "hola", "ola", "buenas", "buenos", "saludos"}
    | {"morning", "afternoon", "evening"}
)
GREETING_WORDS = frozenset(
    {"good", "there", "all", "dia", "dias", "tardes", "noches", "que", "tal"}
)
YES_SIGNS = frozenset({"👍", "✅", "👌", "✔", "🙌", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿"})
NO_SIGNS = frozenset({"👎", "❌", "✖", "🚫"})

_KEEP = re.compile(r"[^0-9a-z/:.\-]+")


def words(text: str) -> list[str]:
    """Lower case, without accents, split into runs of letters, runs of digits and the
    date and time marks / : . - (at most LIMIT characters are read)."""
    decomposed = unicodedata.normalize("NFKD", text[:LIMIT].casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = "".join(c if c.isascii() else " " for c in plain)
    plain = plain.replace("+", " plus ").replace("&", " and ")
    return re.findall(r"\d+|[a-z]+|[/:.\-]", _KEEP.sub(" ", plain))

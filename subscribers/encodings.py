"""Which legacy encoding a CSV export's non-UTF-8 lines are in: Windows-1252, Windows-1251, …

Excel's "CSV (Comma delimited)" writes the Windows code page of the machine that saved it:
Windows-1252 in Western Europe, Windows-1251 in Russia, Windows-1250 or ISO-8859-2 in Central
Europe, Shift-JIS (cp932) in Japan. Reading every such file as Windows-1252 turned "Иван" into
"Èâàí". charset-normalizer ranks the candidate encodings of the file's non-UTF-8 bytes; on the few
short names a subscriber file holds its ranking is often wrong (Windows-1250 for "São Paulo", a
Korean code page for Japanese), so each candidate's reading is also judged for the marks of
mojibake: a symbol inside a word (`£ukasz`), two scripts in one word, a case flip inside a word
(a reading with any of these is not trusted), then Latin words made mostly of accented letters
(Cyrillic read as Latin) and rare Han characters (one CJK code page read as another), and the
number of languages whose letters it needs. The least damaged
reading wins, charset-normalizer's rank breaking ties; a reading that a more common code page
(COMMON's order) gives alike is named by that one.
Pure functions: nothing here reads files or touches the database.
"""

from __future__ import annotations

import re
import unicodedata

from charset_normalizer import from_bytes

# Always tried (after charset-normalizer's own candidates): the code pages exports come in.
COMMON = (
    "cp1252",
    "cp1250",
    "iso8859_2",
    "cp1251",
    "koi8_r",
    "cp932",
    "euc_jp",
    "cp949",
    "gb18030",
    "big5",
    "cp1253",
    "cp1254",
    "cp1257",
    "iso8859_15",
)
_EXPORTED_PREFIXES = ("cp125", "iso8859_", "koi8_", "euc_", "shift_jis", "gb", "big5", "cp874")

# How the report names an encoding; others are named by their codec name.
NAMES = {
    "cp1252": "Windows-1252 (Western European)",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "cp1253": "Windows-1253 (Greek)",
    "cp1254": "Windows-1254 (Turkish)",
    "cp1257": "Windows-1257 (Baltic)",
    "iso8859_2": "ISO-8859-2 (Central European)",
    "iso8859_15": "ISO-8859-15 (Western European)",
    "cp932": "Shift-JIS (Japanese)",
    "shift_jis": "Shift-JIS (Japanese)",
    "euc_jp": "EUC-JP (Japanese)",
    "gb18030": "GB18030 (Chinese)",
    "big5": "Big5 (Traditional Chinese)",
    "cp949": "EUC-KR (Korean)",
    "koi8_r": "KOI8-R (Cyrillic)",
}

# The accented letters of the Latin-script languages subscriber names come in.
_LANGUAGE_LETTERS = (
    "áéíóúñü",  # Spanish
    "áâãàçéêíóôõú",  # Portuguese
    "àâæçéèêëîïôœùûüÿ",  # French
    "äöüß",  # German
    "åæøäöé",  # Danish, Norwegian, Swedish
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "ąćęłńóśźż",  # Polish
    "áéíóöőúüű",  # Hungarian
    "ăâîșşțţ",  # Romanian
    "čćđšž",  # Croatian, Serbian, Slovenian
    "çğıöşü",  # Turkish
    "àèéìíòóù",  # Italian
    "àçèéíïòóúü",  # Catalan
    "āčēģīķļņšūž",  # Latvian
    "ąčęėįšųūž",  # Lithuanian
    "äõöüšž",  # Estonian
)
# Punctuation that may touch a letter in a real name or company (`“Acme”`, `Pemex – Dirección`).
_WORD_PUNCTUATION = set("“”‘’„‚–—…«»¿¡·")
_HALF = {"HAN", "HALFWIDTH"}  # half-width katakana among kanji: Korean read as Shift-JIS
_TOKEN = re.compile(r"[^\s,;|\t\"]+")
# The most bytes of non-UTF-8 lines judged: enough for any ranking, bounded for a huge file.
SAMPLE_BYTES = 64 * 1024


def encoding_name(codec: str) -> str:
    """`Windows-1251 (Cyrillic)`: the name the import report gives an encoding."""
    return NAMES.get(codec, codec)


def _script(ch: str) -> str:
    if ch.isascii():
        return "LATIN"
    name = unicodedata.name(ch, "")
    first = name.split(" ")[0] if name else ""
    if first == "CJK":
        return "HAN"
    if first.startswith(("HIRAGANA", "KATAKANA")):  # also the prolonged sound mark `ー`
        return "JAPANESE"
    return first


def _in_ks_x_1001(ch: str) -> bool:
    try:
        ch.encode("euc_kr")
    except UnicodeEncodeError:
        return False
    return True


def _word_damage(token: str) -> int:
    """Marks of mojibake in one word: symbols touching letters, mixed scripts, case flips."""
    damage = 0
    for index, ch in enumerate(token):
        if ch.isascii() or ch.isalpha() or ch in _WORD_PUNCTUATION:
            continue
        around = token[max(index - 1, 0) : index] + token[index + 1 : index + 2]
        category = unicodedata.category(ch)
        if any(c.isalpha() for c in around) or category[0] == "C":
            damage += 1
        elif category in ("So", "Sk", "Sm") and not any(c.isalpha() for c in token):
            damage += 1  # box drawing and the like where a name should be: `█┌▀╢`
    scripts = {_script(ch) for ch in token if ch.isalpha()}
    if len(scripts - {"HAN"}) > 1 or scripts in ({"HAN", "HANGUL"}, {"HAN", "LATIN"}, _HALF):
        damage += 1
    for a, b in zip(token, token[1:], strict=False):
        if a.islower() and b.isupper() and not (a.isascii() and b.isascii()):
            damage += 1
    # Hangul syllables outside KS X 1001 (cp949's extension): Japanese or Chinese read as Korean.
    damage += sum(_script(ch) == "HANGUL" and not _in_ks_x_1001(ch) for ch in token)
    return damage


def _mostly_accented(token: str) -> bool:
    """A Latin word made mostly of accented letters (`Ďĺňđîâ`): Cyrillic or Greek read as a
    Latin code page. Real words have a few (`Łódź`, `Żółć` are rare), so this only weighs."""
    letters = [ch for ch in token if ch.isalpha()]
    if len(letters) < 4 or any(_script(ch) != "LATIN" for ch in letters):
        return False
    return sum(not ch.isascii() for ch in letters) * 10 > len(letters) * 6


def _languages_needed(text: str) -> int:
    """How many languages' alphabets the accented Latin letters of `text` need (greedy cover);
    a letter no listed language has counts as one more."""
    wanted = {
        ch for ch in text.lower() if ch.isalpha() and not ch.isascii() and _script(ch) == "LATIN"
    }
    needed = 0
    while wanted:
        best = max(_LANGUAGE_LETTERS, key=lambda letters: len(wanted & set(letters)))
        covered = wanted & set(best)
        if not covered:
            return needed + len(wanted)
        wanted -= covered
        needed += 1
    scripts = {_script(ch) for ch in text if ch.isalpha()} - {"LATIN"}
    if "JAPANESE" in scripts:  # kanji and kana together are one language
        scripts.discard("HAN")
    return needed + len(scripts)


def _common_han(ch: str) -> bool:
    """A Han character among the most used: level 1 of GB2312 (Chinese) or of JIS X 0208
    (Japanese). Names are written in these; bytes read in the wrong CJK code page often fall
    outside them."""
    for codec, low, high in (("gb2312", 0xB0A1, 0xD7FE), ("shift_jis", 0x889F, 0x9872)):
        try:
            code = int.from_bytes(ch.encode(codec), "big")
        except UnicodeEncodeError:
            continue
        if low <= code <= high:
            return True
    return False


def _rare(token: str) -> int:
    """How odd a word's letters are: mostly accented (Latin), or rare Han characters."""
    rare_han = sum(_script(ch) == "HAN" and not _common_han(ch) for ch in token)
    return int(_mostly_accented(token)) + rare_han


def damage(text: str) -> tuple[int, int, int]:
    """How damaged a reading looks: (marks of mojibake, odd words and rare Han characters,
    languages needed); less is better, and a reading with any mark of mojibake is not trusted."""
    words = [t for t in _TOKEN.findall(text) if not t.isascii()]
    marks = sum(_word_damage(t) for t in words)
    return marks, sum(map(_rare, words)), _languages_needed(text)


def _exported(codec: str) -> bool:
    """A code page a spreadsheet or a mailing tool writes CSV in (Windows, ISO, East Asian),
    not a DOS or Mac one: those read any byte as some letter, so they would "read" anything."""
    return codec in COMMON or codec.startswith(_EXPORTED_PREFIXES)


def candidates(sample: bytes) -> list[str]:
    """charset-normalizer's candidate encodings for `sample`, best first, then COMMON."""
    ranked = [match.encoding for match in from_bytes(sample) if _exported(match.encoding)]
    return list(dict.fromkeys([*ranked, *COMMON]))


def legacy_encoding(sample: bytes) -> list[str]:
    """The encodings to read a file's non-UTF-8 lines with, the most likely first (only readings
    without marks of mojibake; Windows-1252 when there is none, as before); `sample` is
    those lines' bytes, whole lines (the caller keeps it to about SAMPLE_BYTES)."""
    judged = []
    for rank, codec in enumerate(candidates(sample)):
        try:
            text = sample.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        judged.append((damage(text), rank, codec, text))
    judged.sort(key=lambda j: j[:3])
    judged = [j for j in judged if j[0][0] == 0]
    if not judged:  # every reading shows mojibake: no reading can be trusted but the old one
        return ["cp1252"]
    # A reading the code page exports come in most gives too is named by it: a Spanish file
    # that Windows-1250 reads alike is reported as Windows-1252.
    best = judged[0][3]
    same = [codec for codec in COMMON if any(j[2] == codec and j[3] == best for j in judged)]
    return list(dict.fromkeys([*same[:1], *(codec for *_, codec, _ in judged)]))

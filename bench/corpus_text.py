"""Doc text → a query a developer would type, by rule.

A doc comment's first sentence is close to what someone searching for that code writes,
once its markup is gone (`{@link Foo}`, `:class:`, backticks, HTML), its identifiers are
spelt as words, its boilerplate opener is dropped ("This module provides …", "Returns …")
and it is cut to about twenty words. Doc text that is not a description (a licence, a TODO,
a parameter list, a URL, a cross-reference) or that says too little gives no query.
"""

from __future__ import annotations

import re

from semsearch.query import query_words, split_words

MAX_WORDS = 20
MIN_CONTENT_WORDS = 3

# Lines after which a doc no longer describes: tags, sections, examples, parameter lists.
_STOP_LINE = re.compile(r"^(@(?![^@\s]+@)|:|usage:|\\(param|return|throws|see|note)\b|#|>>>|```|~~~|\.\. |=+$|-+$|\*\s*@|[-*+]\s"
                        r"|(args|arguments|parameters|params|returns?|raises|throws|yields|examples?|notes?|usage"
                        r"|see also|attributes|options|type parameters|safety|panics|errors)\s*:?\s*$)",
                        re.IGNORECASE)
# Doxygen's `@brief X` is the description; `@file x.c`, `@defgroup g` lines name things.
_BRIEF = re.compile(r"^[@\\](brief|short|summary)\s+", re.IGNORECASE)
_NAMING_TAG = re.compile(r"^[@\\](file|defgroup|ingroup|addtogroup|mainpage|page|namespace|class|struct|fn|module"
                         r"|package|author|version|since|date|copyright)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)(?<!\b[A-Z])[.!?](\s|$)")

_MARKUP = [
    (re.compile(r"\{@(?:link|linkplain|code|literal|value)\s+([^}]*)\}"), r"\1"),  # Javadoc inline tags
    (re.compile(r"\{@inheritDoc\}", re.IGNORECASE), " "),
    (re.compile(r"<[^<>]{1,80}>"), " "),  # HTML and C# XML doc tags
    (re.compile(r"!?\[([^\]]+)\]\([^)]*\)"), r"\1"),  # markdown links and images
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # markdown reference links
    (re.compile(r"\[`?([^\]`]+)`?\]"), r"\1"),  # Rust intra-doc links, [Foo]
    (re.compile(r":[\w:.-]+:`~?!?([^`<]+?)(?:\s*<[^>]*>)?`"), r"\1"),  # rST roles
    (re.compile(r"`+([^`]+)`+"), r"\1"),  # code spans
    (re.compile(r"(?<![\w])'([A-Za-z_][\w.]*)'(?![\w])"), r"\1"),  # Haddock's 'Foo'
    (re.compile(r"\*\*?([^*]+)\*\*?"), r"\1"),  # emphasis
    (re.compile(r"&[a-z]+;"), " "),  # HTML entities
    (re.compile(r"@([^@\s]+)@"), r"\1"),  # Haddock's @code@
    (re.compile(r"\{[\w:-]+\}"), " "),  # MyST roles, {py:func}
    (re.compile(r"\[\^[^\]]*\]|\^\w+"), " "),  # footnote marks
]
# Something in code: a dotted/qualified name, a call, snake_case, camelCase, an ALL_CAPS constant.
_IDENTIFIER = re.compile(r"(?<![\w$])[A-Za-z_$][\w$]*(?:(?:\.|::|#|->)[A-Za-z_$][\w$]*)*(?:\(\))?")
_OPENER = re.compile(
    r"^(?:(?:this|the)\s+(?:\w+\s+)?(?:module|file|package|class|function|method|struct|structure|type|trait"
    r"|interface|library|crate|header|script|program|object|enum|macro|helper|component|plugin|extension"
    r"|implementation|namespace|mixin|protocol|record|constructor)\s+(?:(?:is|are)\s+(?:used\s+)?(?:to\s+)?)?"
    r"(?:provides|contains|implements|defines|holds|has|offers|handles|represents|describes|exposes|includes"
    r"|wraps|adds|allows|is|will|can|should|creates|returns|performs|encapsulates|manages)?(?:\s+(?:for|with))?"
    r"|(?:a\s+)?(?:helper|utility|convenience)s?\b(?:\s+(?:function|method|class)(?:s|es)?)?"
    r"(?:\s+(?:that|which|to|for))?"
    r"|(?:returns?|gets?)(?=\s+(?:a|an|the|all|true|false|whether|if|list|new|number|current|next|string|value)\b)"
    r"|package\s+\w+\s+(?:provides|implements|contains|defines|offers|is|has)?"  # Go's package comment
    r"|(?:(?:this|it)\s+)?(?:is|are)(?=\s+(?:a|an|the|used|called|responsible)\b)"
    r"|(?:and|or|but)\b"  # what is left when the sentence opened with two names and one was removed
    r"|(?:public|private|internal|api|protected|summary|description|brief|purpose)\s*:)\s*", re.IGNORECASE)
# A C or Xcode header names its file before saying what it holds: `crc32.h -- tables for …`.
_FILE_NAME_LEAD = re.compile(r"^\s*[\w.+-]+\.[A-Za-z]{1,5}\b\s*(?:--?|—|:)?\s*")
_LOOKS_LIKE_CODE = re.compile(r"[{}=;<>|]|\w:\s*\w+:")
# A sentence cut short: by a removed name ("used to implement a custom"), a colon, or "e.g.".
_DANGLING = re.compile(r"\b(a|an|the|of|to|for|with|in|on|by|from|and|or|example|e g|e\.g|i e)$", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:a|an|the)\s+", re.IGNORECASE)
_TRUE_IF = re.compile(r"^(?:true|`true`|True)\s+(?:if|when|iff)\b", re.IGNORECASE)
# Doc text that is not a description of the code.
_NOT_A_DESCRIPTION = re.compile(
    r"copyright|licen[cs]e|warranty|all rights reserved|spdx|\btodo\b|\bfixme\b|\bxxx\b|\bhack\b|https?:|www\."
    r"|^(see|alias|same as|shorthand|synonym|equivalent|deprecated|use \S+ instead|inherit|overrides?|implements"
    r"|do not|don't use|generated|auto-?generated|internal use|for internal|note|warning|nb|example|e\.g\.)\b"
    r"|@param|@return|\bdeprecated\b|-\*-|\bvim:|\bdo not edit\b|\bmark:|pragma mark|\bLANGUAGE\b|OPTIONS_GHC|#-?\}"
    # implementation notes and credits rather than what the code does
    r"|^(the\s+)?following\b|^(if|since|because|we|our|here|now|then|otherwise|also|but|so|hence|thus|ok|okay"
    r"|for compatibility|workaround|work around|hack|kludge)\b"
    r"|\b(borrowed|ported|taken|copied|adapted|stolen|derived) from\b|\b(inspired|designed|written|contributed|created) by\b"
    r"|\bgenerated (automatically )?by\b|^usage:|^authors?:|^O\(|\w/\w+/\w.*\bline \d+",
    re.IGNORECASE)


def first_sentence(doc: str) -> str:
    """The doc's opening sentence, before a blank line, a tag or a section heading."""
    lines: list[str] = []
    for raw in doc.strip().splitlines():
        line = raw.strip().lstrip("*").strip()
        if _NAMING_TAG.match(line) and not lines:
            continue
        line = _BRIEF.sub("", line)
        if not line:
            if lines:
                break
            continue
        if _STOP_LINE.match(line):
            break
        lines.append(line)
    text = " ".join(lines)
    match = _SENTENCE_END.search(text)
    return (text[: match.start() + 1] if match else text).strip()


def spell(identifier: str) -> str:
    """`parse_config` / `JsonReader.beginObject()` → "parse config" / "json reader begin object"."""
    return " ".join(split_words(identifier))


def is_code_name(token: str) -> bool:
    bare = token.removesuffix("()")
    return bool(re.search(r"[._$#:>]|\(\)|[a-z][A-Z]|[A-Z]{2,}[a-z]{2,}", token)) or "_" in bare.strip("_")


def _spell_identifiers(text: str) -> str:
    return _IDENTIFIER.sub(lambda m: spell(m.group(0)) if is_code_name(m.group(0)) else m.group(0), text)


def _without_name(text: str, name: str) -> str:
    """The doc without its own structure's name (and its spelt words when the name is long)."""
    if not name:
        return text
    text = re.sub(rf"(?:\b(?:a|an|the)\s+)?(?<![\w$])(?:[\w$]+(?:\.|::|#))?{re.escape(name)}(?:\(\))?(?![\w$])",
                  " ", text, flags=re.IGNORECASE if len(name) > 3 else 0)
    words = split_words(name)
    if len(words) >= 3:
        text = re.sub(r"(?:\b(?:a|an|the)\s+)?\b" + r"[\s_-]*".join(map(re.escape, words)) + r"s?\b", " ", text,
                      flags=re.IGNORECASE)
    return text


def _strip_parentheses(text: str) -> str:
    inner = re.sub(r"\s*\([^()]*\)", "", text)
    return inner if len(query_words(inner)) >= MIN_CONTENT_WORDS else text


def cap(text: str, limit: int = MAX_WORDS) -> str:
    """At most `limit` words, cut at a clause boundary where one falls late enough."""
    words = text.split()
    if len(words) <= limit:
        return text
    head = " ".join(words[:limit])
    cut = max(head.rfind(", "), head.rfind("; "), head.rfind(" - "), head.rfind(": "))
    if cut > 0 and len(head[:cut].split()) >= min(8, limit // 2):
        return head[:cut]
    return head


def looks_like_code(text: str) -> bool:
    return _LOOKS_LIKE_CODE.search(text) is not None


def to_query(sentence: str, name: str = "") -> str | None:
    """A search-box query from a doc sentence, or None when it is not a usable description."""
    text = sentence
    for pattern, repl in _MARKUP:
        text = pattern.sub(repl, text)
    if not text or _NOT_A_DESCRIPTION.search(text) or text.rstrip().endswith(":"):
        return None
    if sum(not ch.isascii() for ch in text) > len(text) // 10:
        return None  # mostly not English: the shipped model reads English
    text = _FILE_NAME_LEAD.sub("", _without_name(text, name))
    text = re.sub(r"(^|\s)(::|\.|#)(?=\w)|(^|\s)s(?=\s)", r"\1", text)  # what a removed name leaves (`Foo`s)
    text = _spell_identifiers(text)
    text = " ".join(text.split())
    for _ in range(2):
        text = _OPENER.sub("", text, count=1)
        text = _TRUE_IF.sub("whether", text)
        text = _ARTICLE.sub("", text)
    text = _strip_parentheses(text)
    text = re.sub(r"\"\"\"|\'\'\'|\\(?=\W)", " ", text)  # a docstring's own quotes, Markdown's escapes
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"^[\W_]+|[\s,;:.!?-]+$", "", text)
    text = " ".join(text.split())
    text = cap(text)
    letters = sum(ch.isalpha() or ch.isspace() for ch in text)
    if len(query_words(text)) < MIN_CONTENT_WORDS or letters < 0.85 * len(text) or looks_like_code(text) \
            or _DANGLING.search(text) \
            or (text.count(",") >= 3 and len(text.split()) < 3 * text.count(",")):
        return None  # too generic, code rather than prose, or a list of names
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def normalised(text: str) -> str:
    """Lower-case word tokens joined by single spaces: comment markers, quotes and layout gone."""
    return " ".join(re.findall(r"\w+", text.lower()))

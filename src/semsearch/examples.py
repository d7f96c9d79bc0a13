"""Example queries for the page's "Try:", drawn from the collection being searched.

A fixed list offered "http client" on a collection of startups. These come from the
collection's own points: phrases of two or three words from records' text ("outdoor
furniture", "python library"), the first sentences of docstrings ("return the plural form
of a word"), so each suggestion is something that collection can answer; none when its
data offers nothing to draw from.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from typing import Any

from semsearch.store import Store

SAMPLE = 200  # points read to draw examples from
COUNT = 3
_WORD = re.compile(r"[^\W\d_](?:[\w'-]*\w)?", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?:;\n]")
_CODE_CHARS = re.compile(r"[`(){}\[\]<>=_/\\@#$|*]")
STOPWORDS = frozenset("""
a about above after again against all also an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers him
his how i if in into is it its itself just me more most my no nor not now of off on once only or other our out over
own same she should so some such than that the their them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your yours yet via per
""".split())
# Words too vague to start or fill an example ("simple fast library"), though a query may use them.
VAGUE = frozenset("new one two using used use based simple easy fast best free first let lets".split())


def record_examples(store: Store, collection: str, text_fields: list[str], count: int = COUNT) -> list[str]:
    """Phrases of two or three words from the text of different records, those whose words most
    records share first (a query that finds several), no two sharing a word."""
    texts = []
    for hit in itertools.islice(store.scroll(collection, text_fields), SAMPLE):
        text = ". ".join(v for f in text_fields if isinstance(v := hit.payload.get(f), str) and v.strip())
        if text:
            texts.append(text[:400])
    shared = Counter(word for text in texts for word in {w.lower() for w in _WORD.findall(text)})
    candidates = sorted(((sum(shared[w] for w in p.split()) / len(p.split()), i, p)
                         for i, text in enumerate(texts) for p in phrases(text)), key=lambda c: (-c[0], c[1]))
    found: list[str] = []
    used: set[str] = set()
    for _, _, candidate in candidates:
        words = set(candidate.split())
        if not words & used:
            found.append(candidate)
            used |= words
            if len(found) == count:
                break
    return found


def code_examples(store: Store, collection: str, count: int = COUNT) -> list[str]:
    """The first sentences of docstrings, as a person would ask for them; from different files first."""
    candidates: dict[str, str | None] = {}  # example -> its file
    for hit in itertools.islice(store.scroll(collection, ["docstring", "context.file_path"]), SAMPLE):
        example = sentence(hit.payload.get("docstring"))
        if example:
            candidates.setdefault(example, (hit.payload.get("context") or {}).get("file_path"))
    files: set[str | None] = set()
    first = []
    for example, path in candidates.items():
        if path not in files:
            files.add(path)
            first.append(example)
    return [*first, *(e for e in candidates if e not in first)][:count]


def phrases(text: str, longest: int = 3) -> list[str]:
    """Runs of two or three content words (no stop word, no punctuation between), lower-cased."""
    found: list[str] = []
    run: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group()
        gap = text[match.start() - 1] if match.start() else " "
        if run and (gap not in " -" or len(run) == longest):
            found += [" ".join(run).lower()] if len(run) >= 2 else []
            run = []
        if word.lower() in STOPWORDS or word.lower() in VAGUE or len(word) < 2:
            found += [" ".join(run).lower()] if len(run) >= 2 else []
            run = []
        else:
            run.append(word)
    return found + ([" ".join(run).lower()] if len(run) >= 2 else [])


def sentence(docstring: Any, shortest: int = 3, longest: int = 8) -> str | None:
    """A docstring's first sentence when it reads as a question's words: plain prose, 3 to 8 words."""
    if not isinstance(docstring, str):
        return None
    first = _SENTENCE_END.split(docstring.strip(), maxsplit=1)[0].strip()
    words = first.split()
    if not shortest <= len(words) <= longest or _CODE_CHARS.search(first) \
            or not all(_WORD.fullmatch(w.rstrip(",")) for w in words):
        return None
    return first.lower()

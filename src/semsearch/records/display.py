"""How a record is shown: which field is its title, its link, its picture and its labels.

The tutorial's startups are cards (picture, name linking to the site, city, description),
not lines of `field: value`. Which fields play those parts is decided once, on load, from
the records read ahead (a user can name them instead), and stored with the collection, so
the page, the terminal and the API draw a record the same way.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from semsearch.store import Store

TITLE_GUESSES = ("name", "title")
LINK_GUESSES = ("link", "url", "homepage", "website")
IMAGE_GUESSES = ("images", "image", "picture", "logo", "photo", "thumbnail")
ALT_GUESSES = ("alt", "alt_text", "caption")
MAX_TITLE = 200  # characters: longer values are text, not a name
MAX_LABEL = 40  # characters of a label value
MAX_LABELS = 3  # label fields a card shows
LABEL_SHARE = 0.6  # a label field's distinct values are at most this share of its values
MAX_URL = 2048  # characters of a link or picture URL a face uses
MAX_DATA_URI = 100_000  # characters of an inline picture
_WEB_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp|avif|svg\+xml);base64,[A-Za-z0-9+/=\s]+$", re.IGNORECASE)


@dataclass
class Display:
    """The fields that play a part on a record's card; None where no field does."""

    title: str | None = None
    link: str | None = None
    image: str | None = None
    alt: str | None = None
    labels: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Display:
        labels = data.get("labels") or []
        return cls(*(data.get(k) if isinstance(data.get(k), str) else None for k in ("title", "link", "image", "alt")),
                   labels=[str(label) for label in labels if isinstance(label, str)])

    def roles(self) -> set[str]:
        """The fields with a part of their own (labels aside)."""
        return {f for f in (self.title, self.link, self.image, self.alt) if f}

    def describe(self) -> str:
        """One line for `semsearch collections`: `title: name · link: link · …`."""
        parts = [f"{part}: {name}" for part, name in (("title", self.title), ("link", self.link),
                                                      ("image", self.image), ("alt", self.alt)) if name]
        if self.labels:
            parts.append(f"labels: {', '.join(self.labels)}")
        return " · ".join(parts) or "no title, link, image or labels"


def stored_display(store: Store, collection: str, meta: dict[str, Any], sample: int = 200) -> Display:
    """The parts recorded with a collection; for one loaded before they were, detected from its
    first records, with labels only among its indexed fields (a label filters when clicked)."""
    if isinstance(meta.get("display"), dict):
        return Display.from_json(meta["display"])
    records = [hit.payload for hit in itertools.islice(store.scroll(collection), sample)]
    indexed = list(meta.get("keyword_fields", []))
    found = detect(records, list(meta.get("text_fields", [])), keyword_fields=indexed)
    found.labels = [f for f in found.labels if f in indexed]
    return found


def web_url(value: Any) -> str | None:
    """value as a link a face may follow: http(s) only, of sane length; else None."""
    return value if isinstance(value, str) and len(value) <= MAX_URL and _WEB_URL.match(value) else None


def image_source(value: Any) -> str | None:
    """The first usable picture in value (a URL, a data URI, or a list of them); else None."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and (web_url(item) or (len(item) <= MAX_DATA_URI and _DATA_IMAGE.match(item))):
            return item
    return None


def detect(records: list[dict[str, Any]], text_fields: list[str], *, title: str | None = None,
           link: str | None = None, image: str | None = None, labels: list[str] | None = None,
           keyword_fields: Iterable[str] = ()) -> Display:
    """The parts, from the given names, else guessed from a sample of records.

    Labels are short values shared by several records (a city, a category, a month): the
    fields given as keyword indexes first, then such fields found in the sample.
    """
    title = title or _guess(records, TITLE_GUESSES, lambda v: isinstance(v, str) and 0 < len(v) <= MAX_TITLE)
    link = link or _guess(records, LINK_GUESSES, lambda v: web_url(v) is not None)
    image = image or _guess(records, IMAGE_GUESSES, lambda v: image_source(v) is not None)
    alt = _guess(records, (*ALT_GUESSES, f"{image}_alt"), lambda v: isinstance(v, str)) if image else None
    shown = Display(title, link, image, alt)
    taken = shown.roles() | set(text_fields)
    if labels is None:
        candidates = [*keyword_fields, *_fields_in_order(records)]
        labels = [f for f in dict.fromkeys(candidates) if f not in taken and _is_label(records, f)][:MAX_LABELS]
    shown.labels = list(labels)
    return shown


def _fields_in_order(records: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(key for record in records for key in record))


def _guess(records: list[dict[str, Any]], names: Iterable[str], fits: Any) -> str | None:
    """The first name that most records holding it fill with a fitting value."""
    for name in names:
        values = [r[name] for r in records if r.get(name) not in (None, "", [])]
        if values and sum(1 for v in values if fits(v)) * 2 >= len(values):
            return name
    return None


def _is_label(records: list[dict[str, Any]], name: str) -> bool:
    values = [r[name] for r in records if r.get(name) not in (None, "")]
    if len(values) < 3 or len(values) * 2 < len(records):
        return False
    if not all(isinstance(v, str) and len(v) <= MAX_LABEL and "\n" not in v and not web_url(v) for v in values):
        return False
    return len(set(values)) <= LABEL_SHARE * len(values)

"""Record collections end to end: load JSON/JSONL/CSV with the real model into a real store, search."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from semsearch.records.display import Display, image_source, web_url
from semsearch.records.loader import RecordLoader, RecordsError
from semsearch.records.reader import RecordError, RecordFile
from semsearch.records.search import RecordQueryError, RecordSearcher, highlight
from semsearch.store.edge import EdgeStore
from semsearch.store.server import ServerStore
from tests.conftest import server_store

STARTUPS = [
    {"name": "Oakline", "images": "https://example.org/oakline.png", "alt": "Oakline logo",
     "description": "Handmade wooden furniture and shelving for small city flats",
     "link": "https://oakline.example", "city": "Berlin"},
    {"name": "Kiddo Blocks", "images": "https://example.org/kiddo.png", "alt": "Kiddo logo",
     "description": "Wooden toys that grow with your child", "link": "https://kiddo.example", "city": "Paris"},
    {"name": "Ledgerly", "images": "https://example.org/ledgerly.png", "alt": "Ledgerly logo",
     "description": "Cloud bookkeeping software for freelancers and accountants",
     "link": "https://ledgerly.example", "city": "Berlin"},
    {"name": "Sofa Republic", "images": "https://example.org/sofa.png", "alt": "Sofa Republic logo",
     "description": "Modular sofas and couches delivered in flat boxes", "link": "https://sofa.example",
     "city": "Berlin"},
    {"name": "GreenRide", "images": "https://example.org/greenride.png", "alt": "GreenRide logo",
     "description": "Electric scooter sharing for commuters", "link": "https://greenride.example", "city": "Lisbon"},
]
PYPI = Path(__file__).resolve().parents[2] / "shared" / "data" / "pypi-packages.jsonl"


@pytest.fixture
def startups_file(tmp_path: Path) -> Path:
    path = tmp_path / "startups.json"
    path.write_text(json.dumps(STARTUPS, indent=1))
    return path


@pytest.fixture(params=["edge", "client-local", "server"])
def store(request, tmp_path: Path):
    if request.param == "server":
        s = server_store(request.getfixturevalue("qdrant_url"))
    else:
        s = EdgeStore(tmp_path / "store") if request.param == "edge" else ServerStore(path=str(tmp_path / "local"))
    yield s
    s.close()


def names(hits) -> list[str]:
    return [h.payload["name"] for h in hits]


def test_seed_startup_format_loads_with_no_options(store, startups_file: Path) -> None:
    summary = RecordLoader(store, "startups").load(startups_file, index_fields=["city"])
    assert summary.loaded == summary.points == 5 and summary.text_fields == ["description"]
    searcher = RecordSearcher(store, "startups")
    berlin = searcher.filters([("city", "Berlin")])
    assert names(searcher.search("wooden furniture", mode="neural", limit=1)) == ["Oakline"]
    hits = searcher.search("wooden furniture", mode="neural", filter=berlin)
    assert names(hits)[0] == "Oakline" and {h.payload["city"] for h in hits} == {"Berlin"}
    assert "Kiddo Blocks" not in names(hits)
    full = searcher.search("wooden", mode="fulltext")
    assert sorted(names(full)) == ["Kiddo Blocks", "Oakline"]  # only records with the word
    oak = next(h for h in full if h.payload["name"] == "Oakline")
    start, end = oak.highlights["description"][0]
    assert oak.payload["description"][start:end] == "wooden"
    assert names(searcher.search("a couch for my living room", mode="hybrid", limit=1)) == ["Sofa Republic"]


def test_loading_twice_does_not_duplicate_and_recreate_rebuilds(store, startups_file: Path) -> None:
    loader = RecordLoader(store, "startups")
    loader.load(startups_file)
    loader.load(startups_file)
    assert store.count("startups") == 5
    smaller = startups_file.with_name("two.json")
    smaller.write_text(json.dumps(STARTUPS[:2]))
    assert loader.load(smaller, recreate=True).points == 2


def test_find_similar_excludes_the_record_itself(store, startups_file: Path) -> None:
    RecordLoader(store, "startups").load(startups_file)
    searcher = RecordSearcher(store, "startups")
    oak = searcher.search("Oakline furniture", mode="neural", limit=1)[0]
    similar = searcher.similar(oak.id, limit=3)
    assert oak.id not in [h.id for h in similar]
    assert names(similar)[0] in ("Sofa Republic", "Kiddo Blocks")
    with pytest.raises(RecordQueryError, match="no record"):
        searcher.similar("00000000-0000-0000-0000-000000000000")


def test_jsonl_and_csv_with_bad_lines(tmp_path: Path) -> None:
    jsonl = tmp_path / "items.jsonl"
    jsonl.write_text('{"name": "a", "summary": "fast json parser", "rank": 1}\n{broken\n[1, 2]\n'
                     '{"name": "b", "rank": 2}\n{"name": "c", "summary": "http client library", "rank": 3}\n')
    with EdgeStore(tmp_path / "s") as store:
        summary = RecordLoader(store, "items").load(jsonl, id_field="name", index_fields=["rank"])
        assert (summary.loaded, summary.bad_lines, summary.skipped_no_text) == (2, 2, 1)
        assert [e.line for e in summary.errors] == [2, 3]
        searcher = RecordSearcher(store, "items")
        assert names(searcher.search("http", mode="fulltext", filter=searcher.filters([("rank", "3")]))) == ["c"]
        with pytest.raises(RecordQueryError, match="number field"):
            searcher.filters([("rank", "high")])
        with pytest.raises(RecordQueryError, match="cannot filter on 'summary'"):
            searcher.filters([("summary", "x")])
        with pytest.raises(RecordsError, match="--strict"):
            RecordLoader(store, "items").load(jsonl, id_field="name", strict=True)
        assert store.count("items") == 2  # the strict failure wrote nothing and lost nothing
    csv_file = tmp_path / "cities.csv"
    csv_file.write_text("name,description,population\nLisbon,sunny city by the ocean,545000\n"
                        "Oslo,cold fjord city,709000,extra\n")
    items = list(RecordFile(csv_file))
    assert items[0] == (2, {"name": "Lisbon", "description": "sunny city by the ocean", "population": 545000})
    assert isinstance(items[1][1], RecordError) and items[1][0] == 3


def test_wrong_text_field_fails_before_writing(tmp_path: Path, startups_file: Path) -> None:
    with EdgeStore(tmp_path / "s") as store:
        RecordLoader(store, "startups").load(startups_file)
        with pytest.raises(RecordsError, match="no record has the text field 'summary'.*nothing was written"):
            RecordLoader(store, "startups").load(startups_file, text_fields=["summary"], recreate=True)
        assert store.count("startups") == 5  # --recreate never ran: the check comes first


def test_int8_records_keep_their_precision(tmp_path: Path, startups_file: Path) -> None:
    with EdgeStore(tmp_path / "s") as store:
        RecordLoader(store, "startups", backend="onnx-int8").load(startups_file)
        assert store.metadata("startups")["vectors"]["text"]["precision"] == "int8"
        searcher = RecordSearcher(store, "startups")
        assert searcher.precision == "int8"
        assert names(searcher.search("wooden furniture", mode="neural", limit=1)) == ["Oakline"]
        with pytest.raises(RecordsError, match="holds int8 vectors"):
            RecordLoader(store, "startups", backend="onnx").load(startups_file)
        with pytest.raises(Exception, match="unknown backend"):
            RecordLoader(store, "startups", backend="fast").load(startups_file, recreate=True)
        assert store.count("startups") == 5  # the bad request cost nothing


def test_records_never_land_in_a_code_collection(tmp_path: Path, startups_file: Path) -> None:
    from semsearch.indexer import Indexer
    from tests.test_textify import TUTORIAL
    from semsearch.structures import Structure

    with EdgeStore(tmp_path / "s") as store:
        Indexer(store, "code").import_structures([Structure.from_dict(TUTORIAL)])
        with pytest.raises(RecordsError, match="holds code, not records"):
            RecordLoader(store, "code").load(startups_file)
        assert store.count("code") == 1


def test_highlight_marks_words_by_prefix() -> None:
    text = "Furniture, wooden furnishing and woodwork"
    spans = highlight(text, "wooden furniture")
    assert [text[a:b] for a, b in spans] == ["Furniture", "wooden"]
    text = "Rugs and blankets woven from wool, and the rest"
    assert [text[a:b] for a, b in highlight(text, "wool rugs and the blankets")] == ["Rugs", "blankets", "wool"]


@pytest.mark.skipif(not PYPI.is_file(), reason="shared/data/pypi-packages.jsonl is not beside the checkout")
def test_cli_loads_the_pypi_sample_and_searches_it(tmp_path: Path, cli) -> None:
    sample = tmp_path / "pypi.jsonl"
    with PYPI.open() as f:
        sample.write_text("".join(line for _, line in zip(range(600), f)))
    store = tmp_path / "store"
    result = cli("records", "load", sample, "--store", store, "--text-field", "name", "--text-field", "summary",
                 "--id-field", "name", "--index-field", "released", "-q")
    assert "loaded 600 records into 'pypi'" in result.stderr
    out = cli("search", "-c", "pypi", "http client", "--store", store, "--json", "--limit", "5").stdout
    assert {"requests", "httpx"} & {h["payload"]["name"] for h in json.loads(out)["hits"]}
    listing = cli("collections", "--store", store).stdout
    assert "pypi  600 points  (records)" in listing
    bad = cli("search", "-c", "pypi", "x", "--store", store, "--filter", "city=Berlin", ok=False)
    assert bad.exit_code == 1 and "cannot filter on 'city'" in bad.stderr
    gone = cli("records", "delete", "-c", "pypi", "--store", store, "--filter", "released=2026-11").stderr
    assert "deleted" in gone


TUTORIAL = Path(__file__).parent / "fixtures" / "startups_demo.json"  # the neural-search tutorial's format


def test_the_tutorials_records_know_their_title_link_picture_and_labels(store) -> None:
    summary = RecordLoader(store, "startups").load(TUTORIAL)  # no options, as the tutorial's file comes
    shown = Display(title="name", link="link", image="images", alt="alt", labels=["city"])
    assert summary.display == shown and summary.loaded == 13
    assert Display.from_json(store.metadata("startups")["display"]) == shown  # stored with the collection
    searcher = RecordSearcher(store, "startups")
    assert searcher.display == shown
    lisbon = searcher.search("furniture", mode="neural", filter=searcher.filters([("city", "Lisbon")]))
    assert names(lisbon)[0] == "Tidewater Labs" and {h.payload["city"] for h in lisbon} == {"Lisbon"}  # a label filters


def test_a_hybrid_hit_says_how_near_it_is_beside_its_fused_score(tmp_path: Path) -> None:
    with EdgeStore(tmp_path / "s") as store:
        RecordLoader(store, "startups").load(TUTORIAL)
        searcher = RecordSearcher(store, "startups")
        hits = searcher.search("wooden furniture", limit=8)
        neural = {h.id: h.score for h in searcher.search("wooden furniture", mode="neural", limit=13)}
        assert [h.relevance for h in hits] == pytest.approx([neural[h.id] for h in hits], abs=1e-4)
        assert all(h.score <= 2 / 60 + 1e-6 for h in hits)  # the fused score is reciprocal rank fusion's …
        assert hits[0].relevance == max(h.relevance for h in hits) > 0.5  # … how near a hit is, its cosine
        assert hits[0].to_json()["score"] == round(hits[0].score, 6) and "relevance" in hits[0].to_json()


def test_display_parts_can_be_named_and_are_kept(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text("sku,label,blurb,shop,pic,aisle\n"
                         "1,Oak shelf,A shelf of solid oak,https://shop.example/1,https://img.example/1.png,home\n"
                         "2,Desk lamp,A lamp for late reading,https://shop.example/2,https://img.example/2.png,home\n"
                         "3,Kettle,Boils water fast,https://shop.example/3,https://img.example/3.png,kitchen\n")
    with EdgeStore(tmp_path / "s") as store:
        loader = RecordLoader(store, "catalogue")
        guessed = loader.load(catalogue, text_fields=["blurb"]).display
        assert (guessed.title, guessed.link, guessed.image) == (None, None, None)  # no known names to go by
        named = loader.load(catalogue, text_fields=["blurb"], recreate=True, title_field="label", link_field="shop",
                            image_field="pic", label_fields=["aisle"]).display
        assert named == Display(title="label", link="shop", image="pic", labels=["aisle"])
        with pytest.raises(RecordsError, match="shows 'label' as its title, not 'sku': use --recreate"):
            loader.load(catalogue, text_fields=["blurb"], title_field="sku")
        with pytest.raises(RecordsError, match="no record has the image field 'picture'.*nothing was written"):
            loader.load(catalogue, text_fields=["blurb"], image_field="picture", recreate=True)
        assert store.count("catalogue") == 3 and RecordSearcher(store, "catalogue").display == named


def test_only_web_links_and_pictures_are_used() -> None:
    assert web_url("https://oakline.example/a?b=c") == "https://oakline.example/a?b=c"
    assert web_url("javascript:alert(1)") is None and web_url("//evil.example") is None
    assert web_url("https://x.example/" + "a" * 5000) is None  # a huge URL is not used
    assert image_source(["ftp://x/y.png", "https://x.example/y.png"]) == "https://x.example/y.png"
    assert image_source("data:image/png;base64,iVBORw0KGgo=") == "data:image/png;base64,iVBORw0KGgo="
    assert image_source("data:text/html;base64,PHNjcmlwdD4=") is None


def test_the_terminal_shows_a_record_as_title_labels_link_and_description(tmp_path: Path, cli) -> None:
    store = tmp_path / "store"
    loaded = cli("records", "load", TUTORIAL, "--store", store, "-c", "startups", "-q").stderr
    assert "shown as title: name · link: link · image: images · alt: alt · labels: city" in loaded
    listing = cli("collections", "--store", store).stdout
    assert "shown as: title: name · link: link · image: images · alt: alt · labels: city" in listing
    out = cli("search", "-c", "startups", "handmade wooden furniture", "--store", store, "--limit", "1").stdout
    card = " ".join(line.strip("│╭╮╰╯─ ") for line in out.splitlines())
    parts = ["1. Oakline", "Berlin", "https://oakline.example", "Handmade wooden furniture and shelving for small"]
    assert [card.index(part) for part in parts] == sorted(card.index(part) for part in parts)  # in this order
    assert "images" not in card and "alt:" not in card  # a picture the terminal cannot show is left out
    hostile = cli("search", "-c", "startups", "free furniture giveaway", "--store", store, "--limit", "1").stdout
    assert "Free Furniture Giveaway" in hostile and "javascript:" not in hostile  # not a link it would follow


def test_control_characters_in_a_record_reach_the_terminal_inert(tmp_path: Path, cli) -> None:
    rogue = tmp_path / "rogue.jsonl"
    rogue.write_text(json.dumps({"name": "Clear\x1b[2J\x1b]0;owned\x07", "description": "escape \x1b[31mred\x1b[0m text",
                                 "link": "https://rogue.example"}) + "\n")
    store = tmp_path / "store"
    cli("records", "load", rogue, "--store", store, "-q")
    out = cli("search", "-c", "rogue", "escape", "--store", store).stdout
    assert "\x1b" not in out and "\x07" not in out and "Clear" in out and "red" in out


def test_example_queries_come_from_the_collections_own_text(tmp_path: Path) -> None:
    from semsearch.examples import record_examples

    with EdgeStore(tmp_path / "s") as store:
        RecordLoader(store, "startups").load(TUTORIAL)
        examples = record_examples(store, "startups", ["description"])
        text = " ".join(json.loads(line)["description"].lower() for line in TUTORIAL.read_text().splitlines())
        assert len(examples) == 3 and all(example in text for example in examples)
        searcher = RecordSearcher(store, "startups")
        assert all(searcher.search(example, mode="fulltext", limit=1) for example in examples)
        numbers = tmp_path / "numbers.jsonl"
        numbers.write_text("".join(json.dumps({"text": str(n)}) + "\n" for n in range(5)))
        RecordLoader(store, "numbers").load(numbers)
        assert record_examples(store, "numbers", ["text"]) == []  # nothing to draw from: no examples

"""The seed JSON shape: reading, writing, and refusing what does not fit."""

import json
from pathlib import Path

import pytest

from semsearch.structures import Structure, read_jsonl
from tests.test_textify import TUTORIAL


def test_round_trip_keeps_the_seed_shape() -> None:
    structure = Structure.from_dict(TUTORIAL)
    data = structure.to_dict()
    for key in ("name", "signature", "code_type", "docstring", "line", "line_from", "line_to"):
        assert data[key] == TUTORIAL[key]
    assert data["context"] == TUTORIAL["context"]
    assert Structure.from_dict(data).point_id() == structure.point_id()


def test_point_ids_are_deterministic_and_distinct() -> None:
    a = Structure.from_dict(TUTORIAL)
    b = Structure.from_dict({**TUTORIAL, "line_from": 60, "line_to": 70})
    assert a.point_id() == Structure.from_dict(TUTORIAL).point_id()
    assert a.point_id() != b.point_id()


@pytest.mark.parametrize("broken, message", [
    ({k: v for k, v in TUTORIAL.items() if k != "context"}, "context"),
    ({**TUTORIAL, "name": None}, "name"),
    ({**TUTORIAL, "line_from": "x"}, "integers"),
    ({**TUTORIAL, "line_from": 50, "line_to": 40}, "before"),
])
def test_bad_records_are_refused_with_a_reason(broken: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Structure.from_dict(broken)


def test_read_jsonl_reports_bad_lines_by_number(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(TUTORIAL) + "\n{not json\n\n" + json.dumps({"name": "x"}) + "\n")
    items = list(read_jsonl(path))
    assert [n for n, _ in items] == [1, 2, 4]
    assert isinstance(items[0][1], Structure)
    assert "not JSON" in str(items[1][1]) and "context" in str(items[2][1])

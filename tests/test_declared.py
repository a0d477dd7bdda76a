"""Declared data (metadata.srcstage): parsing, refusals that name the field, finding the notebook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from srcstage_jlab.client import InvalidInputError
from srcstage_jlab.declared import DeclaredCollection, declared_data, running_notebook, with_declared
from srcstage_jlab.runner import main


def nb(block):
    return {"cells": [], "metadata": {"srcstage": block}, "nbformat": 4, "nbformat_minor": 5}


def test_a_declaration_reads_back_as_collections(tmp_path):
    path = tmp_path / "a.ipynb"
    block = {
        "collections": [
            {"name": " run-1 ", "dids": ["ska-mid:obs-2026-0001", "ska-low:x.txt", "ska-mid:obs-2026-0001"]},
            {"name": "cube", "dids": ["ska-mid:deep-field-cube"], "lifetime": "2d"},
        ]
    }
    path.write_text(json.dumps(nb(block)))
    assert declared_data(path) == [
        DeclaredCollection("run-1", ("ska-mid:obs-2026-0001", "ska-low:x.txt"), None),
        DeclaredCollection("cube", ("ska-mid:deep-field-cube",), "2d"),
    ]
    assert declared_data({"metadata": {}}) == []


@pytest.mark.parametrize(
    "block, field",
    [
        ([], "metadata.srcstage:"),
        ({"collections": "x"}, "metadata.srcstage:"),
        ({"collections": [7]}, "collections[0]:"),
        ({"collections": [{"dids": ["a:b"]}]}, "collections[0].name"),
        ({"collections": [{"name": "x", "dids": []}]}, "collections[0].dids"),
        ({"collections": [{"name": "x", "dids": ["a:b", "no colon"]}]}, "collections[0].dids[1]"),
        ({"collections": [{"name": "x", "dids": ["a:b"], "lifetime": True}]}, "collections[0].lifetime"),
        ({"collections": [{"name": "x", "dids": ["a:b"]}, {"name": "x", "dids": ["a:c"]}]}, "collections[1].name"),
    ],
)
def test_a_malformed_declaration_names_the_field(block, field):
    with pytest.raises(InvalidInputError) as err:
        declared_data(nb(block))
    assert field in err.value.message


FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "declared-notebooks.json").read_text())


@pytest.mark.parametrize("case", FIXTURE["valid"])
def test_the_shared_fixture_reads_as_the_sidebar_reads_it(case):
    assert [c.as_metadata() for c in declared_data(case)] == case["collections"]


@pytest.mark.parametrize("case", FIXTURE["malformed"])
def test_the_shared_fixture_refusals_name_the_field_the_sidebar_names(case):
    with pytest.raises(InvalidInputError) as err:
        declared_data(nb(case["block"]))
    assert err.value.message.startswith(case["field"])


def test_declaring_replaces_a_collection_of_the_same_name():
    doc = nb({"collections": [{"name": "a", "dids": ["x:1"]}, {"name": "b", "dids": ["x:2"]}]})
    with_declared(doc, DeclaredCollection("a", ("x:3",), "1d"))
    assert [c.as_metadata() for c in declared_data(doc)] == [
        {"name": "b", "dids": ["x:2"]},
        {"name": "a", "dids": ["x:3"], "lifetime": "1d"},
    ]


def test_the_running_notebook_is_found_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "here.ipynb"
    path.write_text("{}")
    assert running_notebook({"SRCSTAGE_NOTEBOOK": str(path)}) == path
    monkeypatch.chdir(tmp_path)
    assert running_notebook({"JPY_SESSION_NAME": "some/dir/here.ipynb"}) == tmp_path / "here.ipynb"
    assert running_notebook({"JPY_SESSION_NAME": "gone.ipynb"}) is None
    assert running_notebook({}) is None


def test_run_refuses_a_malformed_declaration_before_any_server(tmp_path, capsys):
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(nb({"collections": [{"name": "x", "dids": ["ska-mid:has space"]}]})))
    assert main(["run", str(path)]) == 2
    assert "collections[0].dids[0]" in capsys.readouterr().err
    assert not (tmp_path / "bad.run.ipynb").exists()

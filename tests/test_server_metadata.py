"""Science metadata through the server extension (`jp_fetch` against the sandbox's DM API)."""

from __future__ import annotations

from srcstage_jlab.sandbox import seed


async def test_details_show_the_seeded_science_metadata(api):
    did, expected = next((d, m) for d, m in seed.science_metadata().items() if d.endswith(".csv"))
    status, answer = await api("GET", "metadata", did=did)
    assert status == 200, answer
    assert answer == {"did": did, "metadata": expected}


async def test_a_did_without_science_metadata_has_empty_details(api):
    notes = next(f for f, _ in seed.catalogue().loose_files)
    status, answer = await api("GET", "metadata", did=f"{notes.scope}:{notes.name}")
    assert status == 200, answer
    assert answer["metadata"] == {}


async def test_an_unknown_did_is_404_and_bad_input_changes_nothing(api):
    status, answer = await api("GET", "metadata", did="ska-mid:no-such-thing.csv")
    assert status == 404 and "ska-mid:no-such-thing.csv" in answer["detail"], answer
    status, answer = await api("GET", "metadata", did="not a did")
    assert status == 400, answer

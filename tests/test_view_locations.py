"""What the staging view's "where now" column reads (issue #14): GET /srcstage/locations says, per
storage area, whether it is tape and how many bytes of the DID it holds."""

from __future__ import annotations

import json


async def test_locations_say_which_copy_is_on_tape_and_its_size(jp_fetch):
    answer = await jp_fetch("srcstage", "locations", params={"did": "ska-low:scale-00042.txt"})
    body = json.loads(answer.body)
    assert body["did"] == "ska-low:scale-00042.txt"
    by_rse = {loc["rse"]: loc for loc in body["locations"]}
    # The scale files are seeded on the tape area (others may have staged a copy elsewhere since).
    assert by_rse["FAR_TAPE"]["tape"] is True
    assert by_rse["FAR_TAPE"]["bytes"] == 1024 and by_rse["FAR_TAPE"]["files"] == 1
    assert all(loc["tape"] is False for rse, loc in by_rse.items() if rse != "FAR_TAPE")

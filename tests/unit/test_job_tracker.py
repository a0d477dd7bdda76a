"""The job tracker with a scripted DM status call: backoff, errors, unknown states, restart."""

from __future__ import annotations

import asyncio
import json

import pytest

from srcstage_jlab import errors
from srcstage_jlab.staging import jobs as jobs_module
from srcstage_jlab.staging.jobs import JobTracker, TrackedJob

from .scripted import LOG

INTERVAL, MAX_INTERVAL = 1.0, 8.0
REAL_SLEEP = asyncio.sleep  # the tests' own waits, never recorded


async def turn():
    await REAL_SLEEP(0.005)


@pytest.fixture
def pauses(monkeypatch):
    """The tracker's waits, recorded instead of slept (the loop still turns)."""
    recorded: list[float] = []

    async def sleep(delay, *args, **kwargs):
        recorded.append(delay)
        await REAL_SLEEP(0)

    monkeypatch.setattr(jobs_module.asyncio, "sleep", sleep)
    return recorded


class StatusScript:
    """A scripted DM status call: answers (dicts) or errors, the last one repeated."""

    def __init__(self, *steps):
        self.steps, self.calls = steps, 0

    async def __call__(self, job_id: str) -> dict:
        step = self.steps[min(self.calls, len(self.steps) - 1)]
        self.calls += 1
        if isinstance(step, Exception):
            raise step
        return step


def new_job(job_id="job-1"):
    return TrackedJob(id=job_id, did="user.demo:c", destination={"name": "LOCAL"}, lifetime_s=3600)


async def follow(tracker: JobTracker, job: TrackedJob, first: dict, until=lambda j: False, steps=400):
    await tracker.add(job, first)
    for _ in range(steps):
        if until(tracker.get(job.id)) or job.id not in tracker._pollers:
            break
        await turn()
    await turn()
    return tracker.get(job.id)


def tracker_for(tmp_path, fetch):
    return JobTracker(tmp_path / "jobs.json", fetch, interval=INTERVAL, max_interval=MAX_INTERVAL, log=LOG)


def test_polling_backs_off_while_nothing_changes_and_stops_when_done(tmp_path, pauses):
    staging = {"state": "STAGING", "progress": {"files_done": 0, "files_total": 2}}
    fetch = StatusScript(*([staging] * 6), {"state": "COMPLETED", "progress": {"files_done": 2, "files_total": 2}})
    tracker = tracker_for(tmp_path, fetch)

    async def go():
        job = await follow(tracker, new_job(), {"state": "SUBMITTED"}, until=lambda j: j.phase == "completed")
        await tracker.stop()
        return job

    job = asyncio.run(go())
    assert job.phase == "completed" and job.progress["files_done"] == 2
    assert fetch.calls == 7  # no call after the end
    # First the interval; 1.5x per unchanged answer, capped.
    assert pauses[:2] == [INTERVAL, INTERVAL]  # the first STAGING answer changed the state
    grown = pauses[2:7]
    assert grown == sorted(grown) and max(grown) <= MAX_INTERVAL and grown[-1] > INTERVAL


def test_a_change_brings_the_interval_back_down(tmp_path, pauses):
    same = {"state": "STAGING", "progress": {"files_done": 1}}
    fetch = StatusScript(same, same, same, {"state": "STAGING", "progress": {"files_done": 2}}, {"state": "DONE"})
    tracker = tracker_for(tmp_path, fetch)

    async def go():
        await follow(tracker, new_job(), {"state": "SUBMITTED"}, until=lambda j: j.phase == "completed")
        await tracker.stop()

    asyncio.run(go())
    assert pauses[3] > INTERVAL and pauses[4] == INTERVAL


def test_a_failing_status_call_keeps_the_last_state_says_why_and_waits_longer(tmp_path, pauses):
    fetch = StatusScript(
        {"state": "STAGING"},
        errors.Unavailable("The SRCNet Data Management API failed (HTTP 503).", "busy", service="data-management"),
        errors.Unavailable("The SRCNet Data Management API failed (HTTP 503).", "busy", service="data-management"),
    )
    tracker = tracker_for(tmp_path, fetch)

    async def go():
        job = await follow(tracker, new_job(), {"state": "SUBMITTED"}, until=lambda j: fetch.calls >= 4)
        await tracker.stop()
        return job

    job = asyncio.run(go())
    assert job.state == "STAGING" and job.phase == "active"
    assert job.error["code"] == "unavailable" and job.error["detail"] == "busy"
    assert pauses[2] == 2 * pauses[1] or pauses[2] == MAX_INTERVAL


def test_not_signed_in_waits_the_longest(tmp_path, pauses):
    fetch = StatusScript(errors.NotSignedIn("You are not signed in to SRCNet."))
    tracker = tracker_for(tmp_path, fetch)

    async def go():
        job = await follow(tracker, new_job(), {"state": "SUBMITTED"}, until=lambda j: fetch.calls >= 2)
        await tracker.stop()
        return job

    job = asyncio.run(go())
    assert job.error["code"] == "not_signed_in" and pauses[1] == MAX_INTERVAL and job.phase == "active"


def test_a_job_srcnet_no_longer_knows_fails_and_polling_stops(tmp_path, pauses):
    fetch = StatusScript(errors.NotFound("gone", "no such job", service="data-management"))
    tracker = tracker_for(tmp_path, fetch)

    async def go():
        job = await follow(tracker, new_job(), {"state": "SUBMITTED"}, until=lambda j: j.phase == "failed")
        await turn()
        return job

    job = asyncio.run(go())
    assert (job.state, job.phase) == ("NOT_FOUND", "failed") and fetch.calls == 1 and not tracker._pollers


@pytest.mark.parametrize("state", ["WAITING_FOR_TAPE_ROBOT", "", None, "completed-ish"])
def test_unknown_states_are_never_success_and_polling_goes_on(tmp_path, pauses, state):
    fetch = StatusScript({"state": state})
    tracker = tracker_for(tmp_path, fetch)

    async def go():
        job = await follow(tracker, new_job(), {"state": "SUBMITTED"}, until=lambda j: fetch.calls >= 4)
        running = job.id in tracker._pollers
        await tracker.stop()
        return job, running

    job, running = asyncio.run(go())
    assert job.phase not in ("completed", "failed") and running and fetch.calls >= 4


@pytest.mark.parametrize("state, phase", [("COMPLETED", "completed"), ("FAILED", "failed"), ("STAGING", "active")])
def test_the_first_answer_decides_whether_a_poller_is_needed(tmp_path, pauses, state, phase):
    fetch = StatusScript({"state": state})
    tracker = tracker_for(tmp_path, fetch)

    async def go():
        job = await tracker.add(new_job(), {"state": state})
        polling = job.id in tracker._pollers
        await tracker.stop()
        return job, polling

    job, polling = asyncio.run(go())
    assert job.phase == phase and polling == (phase == "active")


def test_tracking_resumes_after_a_restart_and_finished_jobs_are_left_alone(tmp_path, pauses):
    first = tracker_for(tmp_path, StatusScript({"state": "STAGING"}))

    async def before_restart():
        await first.add(new_job("running"), {"state": "STAGING"})
        await first.add(new_job("finished"), {"state": "COMPLETED"})
        await first.stop()

    asyncio.run(before_restart())
    saved = json.loads((tmp_path / "jobs.json").read_text())
    assert {j["id"] for j in saved["jobs"]} == {"running", "finished"}

    asked: list[str] = []

    async def fetch(job):
        asked.append(job.id)
        return {"state": "COMPLETED"}

    second = tracker_for(tmp_path, fetch)

    async def after_restart():
        assert second.get("running").phase == "active"  # read back from the file
        second.start()
        for _ in range(50):
            if second.get("running").phase == "completed":
                break
            await turn()
        await second.stop()

    asyncio.run(after_restart())
    assert asked == ["running"] and second.get("running").phase == "completed"
    assert json.loads((tmp_path / "jobs.json").read_text())["jobs"][0]["phase"] == "completed"


def test_forget_stops_the_poller_and_the_job_is_gone(tmp_path, pauses):
    tracker = tracker_for(tmp_path, StatusScript({"state": "STAGING"}))

    async def go():
        await tracker.add(new_job(), {"state": "STAGING"})
        await tracker.forget("job-1")
        await turn()
        return dict(tracker._pollers)

    assert asyncio.run(go()) == {}
    with pytest.raises(errors.NotFound):
        tracker.get("job-1")


# --- cadence: watched or not, age, counts, hints ---------------------------------------------


def test_the_watched_cap_keeps_the_lag_promise_and_grows_with_age():
    interval, longest = 2.0, 30.0
    assert jobs_module.watched_cap(0, interval, longest) == 3.0  # 5 s promise less one reader poll
    assert jobs_module.watched_cap(300, interval, longest) == 28.0  # 10 % of 5 min, less one poll
    assert jobs_module.watched_cap(3600, interval, longest) == longest
    assert jobs_module.watched_cap(0, 10.0, longest) == 10.0  # never under the interval


def test_next_delay_prefers_the_dm_hint_then_the_estimate_then_backs_off():
    base = {"interval": 1.0, "cap": 20.0}
    assert jobs_module.next_delay(4.0, changed=True, eta=None, hint=7.0, **base) == 7.0
    assert jobs_module.next_delay(4.0, changed=True, eta=12.0, hint=None, **base) == 12.0
    assert jobs_module.next_delay(4.0, changed=True, eta=500.0, hint=None, **base) == 20.0
    assert jobs_module.next_delay(4.0, changed=True, eta=None, hint=None, **base) == 1.0
    assert jobs_module.next_delay(4.0, changed=False, eta=None, hint=None, **base) == 6.0
    assert jobs_module.next_delay(18.0, changed=False, eta=None, hint=None, **base) == 20.0
    assert jobs_module.hint_of({"retry_after": 9}) == 9.0 and jobs_module.hint_of({"retry_after": True}) is None


def test_an_unwatched_job_backs_off_to_the_idle_interval_and_a_watched_one_does_not(tmp_path, pauses):
    same = {"state": "STAGING"}
    fetch = StatusScript(same)
    tracker = JobTracker(
        tmp_path / "jobs.json", fetch, interval=INTERVAL, max_interval=MAX_INTERVAL, idle_interval=60.0, log=LOG
    )

    async def go(watch: bool):
        pauses.clear()
        job = new_job("w" if watch else "u")
        await tracker.add(job, {"state": "SUBMITTED"})
        for _ in range(30):
            if watch:
                tracker.watch()
            await turn()
        await tracker.stop()
        return list(pauses)

    unwatched = asyncio.run(go(False))
    watched = asyncio.run(go(True))
    assert max(unwatched) == 60.0
    # A young watched job: within the 5 s promise less one reader poll.
    assert max(watched) == jobs_module.watched_cap(0, INTERVAL, MAX_INTERVAL) == 4.0


def test_a_reader_wakes_a_job_whose_next_poll_is_too_far_off(tmp_path):
    calls: list[float] = []

    async def fetch(job):
        calls.append(asyncio.get_running_loop().time())
        return {"state": "STAGING", "retry_after": 20}  # unwatched, the next poll is 20 s off

    tracker = JobTracker(tmp_path / "jobs.json", fetch, interval=0.01, max_interval=0.05, idle_interval=30.0, log=LOG)

    async def go():
        await tracker.add(new_job(), {"state": "SUBMITTED"})
        await REAL_SLEEP(0.3)
        quiet = len(calls)
        tracker.watch("job-1")
        await REAL_SLEEP(0.2)
        woken = len(calls) - quiet
        await tracker.stop()
        return quiet, woken

    quiet, woken = asyncio.run(go())
    assert quiet == 1 and woken >= 2  # woken at once, then polled within the watched cap


def test_counts_moving_at_a_known_rate_poll_near_the_estimated_end(tmp_path, pauses):
    now = [0.0]
    answers = iter(
        [
            {"state": "STAGING", "progress": {"files_done": 10, "files_total": 100}},
            {"state": "STAGING", "progress": {"files_done": 20, "files_total": 100}},
            {"state": "DONE", "progress": {"files_done": 100, "files_total": 100}},
        ]
    )

    async def fetch(job):
        now[0] += 10.0  # each answer 10 s after the one before
        return next(answers)

    tracker = JobTracker(
        tmp_path / "jobs.json", fetch, interval=INTERVAL, max_interval=MAX_INTERVAL, idle_interval=500.0, log=LOG
    )
    tracker.clock = lambda: now[0]

    async def go():
        await follow(tracker, new_job(), {"state": "SUBMITTED"}, until=lambda j: j.phase == "completed")
        await tracker.stop()

    asyncio.run(go())
    # 10 files in 10 s, 80 to go: the next poll 80 s later (not the 1.5x backoff).
    assert pauses[2] == 80.0

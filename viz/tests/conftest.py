"""Fixtures for the viz tests: the demo's story as a synthetic capture."""

import pytest

from viz import synth, timeline
from xvtrace.decode import decode


@pytest.fixture(scope="session")
def story():
    """(capture bytes, ids): pids and region addresses of the story."""
    k, ids = synth.story()
    return k.to_bytes(), ids


@pytest.fixture(scope="session")
def story_trace(story):
    return decode(story[0], source="story.bin")


@pytest.fixture(scope="session")
def story_timeline(story_trace):
    return timeline.collect(story_trace)


@pytest.fixture(scope="session")
def story_file(story, tmp_path_factory):
    path = tmp_path_factory.mktemp("capture") / "story.bin"
    path.write_bytes(story[0])
    return path

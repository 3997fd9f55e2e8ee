"""Fixtures for the xvtrace tests (helpers are in xvtrace_testlib.py)."""

import pytest

from xvtrace_testlib import session


@pytest.fixture
def clean_capture():
    return session().to_bytes()

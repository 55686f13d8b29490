"""Every documentation page with Python examples is run (doctest), so the docs stay true.
The API page runs the baseline: the slow lane. It runs from an empty folder, as a user's
notebook would: library scenarios are named, and every file it needs it writes itself."""

from __future__ import annotations

import doctest
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.parametrize("page", ["docs/api.md"])
def test_doc_page_examples_run(page, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(str(ROOT / page), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0, f"{result.failed} of {result.attempted} failed in {page}"
    assert list(tmp_path.iterdir()) == []  # it wrote only into temporary folders of its own

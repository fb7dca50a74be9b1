"""The README's examples are doctests: they run as written, in order, and print what it says."""

import doctest
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # whole module: make test-fast skips it

README = Path(__file__).resolve().parents[1] / "README.md"


def pycon_blocks():
    return re.findall(r"```pycon\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_two_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text


def test_readme_examples_print_what_they_say():
    """Every ```pycon block, in one namespace as a reader would paste them, output checked.

    (```py blocks are illustrations that need data files or servers; they are not run.)
    """
    blocks = pycon_blocks()
    assert len(blocks) >= 5, "README.md lost its examples"
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    namespace = {}
    for i, block in enumerate(blocks):
        test = parser.get_doctest(block, namespace, f"README block {i}", str(README), 0)
        result = runner.run(test, clear_globs=False)
        namespace = test.globs
        assert result.failed == 0, f"README block {i} printed something else (see above)"


def test_readme_reproduction_summary_is_generated_from_the_committed_tables():
    """Every number in the README's reproduction summary comes from reproduction/ by code."""
    from experiments.report import README_BEGIN, README_END, readme_summary

    folder = README.parent / "reproduction"
    block = README.read_text().split(README_BEGIN, 1)[1].split(README_END, 1)[0]
    assert block.strip() == readme_summary(folder).strip()
    assert block.count("\n* ") >= 4, "the summary lost its findings"

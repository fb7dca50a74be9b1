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


#: The distributions each row of the README's version table names, in the order of its cells.
VERSION_ROWS = {
    "PettingZoo": ("pettingzoo",),
    "SuperSuit": ("SuperSuit",),
    "Gymnasium": ("gymnasium",),
    "stable-baselines3, sb3-contrib": ("stable_baselines3", "sb3_contrib"),
    "TorchRL, tensordict": ("torchrl", "tensordict"),
    "BenchMARL": ("benchmarl",),
    "RLlib (ray)": ("ray",),
    "JAX, optax": ("jax", "optax"),
    "OpenSpiel": ("open_spiel",),
}


def _version_table() -> dict[str, str]:
    text = README.read_text().split("**Versions tested**", 1)[1]
    rows = {}
    for line in text.splitlines()[1:]:
        if line.startswith("| ") and not line.startswith("| library"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[1]
        elif rows and not line.startswith("|"):
            break
    return rows


def test_the_readme_version_table_names_what_is_installed():
    """Each installed library of the README's version table is at a version (major.minor) the
    table lists for it; the libraries of the other venvs are checked when the suite runs
    there (``make test-benchmarl``, ``make test-rllib``)."""
    import re
    from importlib import metadata

    table = _version_table()
    assert set(table) == set(VERSION_ROWS), "the version table and VERSION_ROWS disagree"
    checked = 0
    for row, dists in VERSION_ROWS.items():
        groups = [re.findall(r"\d+\.\d+(?:\.\d+)?", group) for group in table[row].split(";")]
        for i, dist in enumerate(dists):
            try:
                installed = metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
            listed = {".".join(group[i].split(".")[:2]) for group in groups if len(group) > i}
            assert ".".join(installed.split(".")[:2]) in listed, (
                f"README lists {row} at {table[row]!r}, but {dist} {installed} is installed"
            )
            checked += 1
    assert checked >= 1

"""The README's usage example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_two_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text


def test_readme_usage_examples_run():
    """The ```python blocks run in order, in one namespace, as a reader would paste them.

    (```py blocks are illustrations that need data files; they are not run.)
    """
    blocks = python_blocks()
    assert len(blocks) >= 2, "README.md lost its usage examples"
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)

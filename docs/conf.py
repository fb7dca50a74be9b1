"""Sphinx configuration: furo, MyST markdown, myst-nb executing the tutorials, autodoc.

Pages are generated from the code at build time, so they cannot drift from it: the
environment pages (the docstrings of ``EngagementEnv`` and ``VectorEngagementEnv``, and of
every scenario module of ``recsys_eq_env.zoo``, which are their PettingZoo-style
documentation) and the animation of the paper's dynamics on the landing
page (the env's ``rgb_array`` frames of a best-response rollout).
"""

import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

project = "recsys-eq-env"
author = "recsys-eq-env developers"
copyright = "2026, recsys-eq-env developers"
extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx_copybutton",
    "sphinxarg.ext",
]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "cache"  # a fresh clone executes every tutorial; rebuilds reuse results
nb_execution_timeout = 600
nb_execution_raise_on_error = True  # a failing tutorial fails the build
nb_execution_show_tb = True
nb_merge_streams = True
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "jupyter_execute"]
html_theme = "furo"
html_title = "recsys-eq-env"
html_static_path = ["_static"]
autosummary_generate = True
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
napoleon_numpy_docstring = True
suppress_warnings = ["myst.header"]  # the included report starts below level one


def _page_from_docstring(cls, name: str) -> None:
    """Write the class (or module) docstring (Markdown, PettingZoo's env-page form) as a MyST
    page."""
    target = Path(__file__).parent / "_generated" / f"{name}.md"
    target.parent.mkdir(exist_ok=True)
    text = inspect.cleandoc(cls.__doc__) + "\n"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


def _animation() -> None:
    """The paper's dynamics as an animation: producers (orange) move between features until
    no one can gain, beside the users' mass per feature (blue)."""
    from agents import BestResponseAgent, rollout
    from recsys_eq_env import parallel_env, synthetic_users
    from recsys_eq_env.render import save_gif

    users = synthetic_users("skewed", 2000, 8, seed=13, generator="paper")
    env = parallel_env(users=users, n_producers=30, rule="softmax", temperature=0.1,
                       action_type="discrete", revision="one", terminate_at_equilibrium=True,
                       render_mode="rgb_array")  # fmt: skip
    trajectory = rollout(env, BestResponseAgent.for_env(env), seed=3, record_frames=True)
    save_gif(trajectory.frames, Path(__file__).parent / "_static" / "dynamics.gif")


def _hide_env_docstrings(app, what, name, obj, options, lines):
    """The envs' docstrings are their own pages (Markdown): point there from the API."""
    from recsys_eq_env.environment import EngagementEnv
    from recsys_eq_env.vector import VectorEngagementEnv

    pages = {EngagementEnv: "environment", VectorEngagementEnv: "vector"}
    if what == "class" and obj in pages:
        lines[:] = [f"The environment's page: :doc:`/{pages[obj]}`."]


def setup(app):
    from recsys_eq_env import zoo
    from recsys_eq_env.environment import EngagementEnv
    from recsys_eq_env.vector import VectorEngagementEnv

    _page_from_docstring(EngagementEnv, "environment")
    _page_from_docstring(VectorEngagementEnv, "vector")
    for name in zoo.scenarios():  # each scenario's page is its module's docstring
        _page_from_docstring(zoo.spec(name)._module(), f"scenario-{name}")
    _animation()
    app.connect("autodoc-process-docstring", _hide_env_docstrings)

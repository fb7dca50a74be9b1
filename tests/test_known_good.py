"""The known-good settings table (issue 23): settings come from the packaged study whose
fingerprint the committed rows carry, verdicts from the bootstrap interval, and libraries
with no rows are named with the command that measures them."""

from pathlib import Path

import pandas as pd
import pytest

from experiments.known_good import KNOWN_GOOD_LOW, known_good_lines, known_good_table

ROWS = Path(__file__).resolve().parents[1] / "reproduction" / "compare.parquet"


@pytest.fixture(scope="module")
def rows():
    return pd.read_parquet(ROWS)


@pytest.fixture(scope="module")
def table(rows):
    return known_good_table(rows, reps=200)


def test_settings_are_the_study_block_the_rows_were_trained_with(table):
    sb3 = table.set_index("learner").loc["sb3_ppo"]
    assert sb3["library"] == "stable-baselines3" and sb3["study"] == "compare-sb3"
    assert "sb3: {learning_rate=0.003, n_epochs=4}" in sb3["settings"]
    assert table.set_index("learner").loc["shared_ppo", "study"] == "compare"
    assert set(table["learner"]) >= {"sb3_ppo", "sb3_a2c", "sb3_dqn", "shared_ppo"}
    assert "hedge" not in set(table["learner"])  # full information: not a library baseline


def test_verdicts_follow_the_interval(table):
    good = table["verdict"] == "known good"
    assert (table.loc[good, "reached_low"] >= KNOWN_GOOD_LOW).all()
    assert (table.loc[~good, "reached_low"] < KNOWN_GOOD_LOW).all()
    never = table["verdict"] == "does not reach it"
    assert (table.loc[never, "reached_high"] == 0).all()


def test_rows_from_an_unknown_study_are_not_given_settings(rows):
    changed = rows.copy()
    changed.loc[changed["learner"] == "sb3_a2c", "fingerprint"] = "0" * 16
    table = known_good_table(changed, reps=50).set_index("learner")
    assert table.loc["sb3_a2c", "study"] == "not a packaged study"
    assert table.loc["sb3_ppo", "study"] == "compare-sb3"


def test_libraries_without_rows_are_named_with_their_command(rows):
    text = "\n".join(known_good_lines(rows, reps=50))
    assert "BenchMARL: no committed rows" in text and "--study compare-benchmarl" in text
    assert "RLlib: no learner in the study" in text
    only_jax = known_good_lines(rows[rows["engine"] != "sb3"], reps=50)
    assert any("stable-baselines3: no committed rows" in line for line in only_jax)

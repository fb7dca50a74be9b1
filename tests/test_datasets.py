"""Real populations: the paper's NMF protocol, raw files, downloads, the embedding cache."""

import gzip
import hashlib
import io
import json
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import SHARED
from helpers import shared_file as shared

import recsys_eq_env as rq
from recsys_eq_env import data as datasets
from recsys_eq_env.data import fetch
from recsys_eq_env.data import nmf as nmf_module


@pytest.mark.slow
def test_movielens_reproduces_the_authors_embedding_bit_for_bit(tmp_path):
    """MODEL.md section 4: dim 5, seed 5 gives the authors' committed factors exactly."""
    expected = np.load(shared("embeddings", "ml100k_nmf_dim5_seed5.npy"))
    shared("ml-100k", "u.data")
    factors, ids = datasets.load_factors(
        "movielens-100k", 5, 5, data_home=SHARED, cache_home=tmp_path, progress=False
    )
    assert factors.shape == expected.shape == (943, 5)
    assert np.array_equal(factors, expected)
    assert len(set(ids)) == 943
    users = rq.load_users("movielens-100k", 5, 5, data_home=SHARED, cache_home=tmp_path)
    np.testing.assert_allclose(users.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(users, expected / expected.sum(axis=1, keepdims=True))


@pytest.fixture
def small_dataset(tmp_path, monkeypatch):
    """A 500-rating dataset in MovieLens's format, registered under the MovieLens name."""
    rng = np.random.default_rng(0)
    rows = {
        (int(u), int(i)): int(r)
        for u, i, r in zip(
            rng.integers(1, 60, 700), rng.integers(1, 80, 700), rng.integers(1, 6, 700), strict=True
        )
    }
    lines = [f"{u}\t{i}\t{r}\t0" for (u, i), r in list(rows.items())[:500]]
    path = tmp_path / "data" / "ml-100k" / "u.data"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    spec = datasets.DATASETS["movielens-100k"]
    small = datasets.DatasetInfo(
        spec.name,
        spec.description,
        (datasets.RawFile(spec.files[0].path, (), rows=500, kind="movielens"),),
    )
    monkeypatch.setitem(datasets.DATASETS, "movielens-100k", small)
    return tmp_path / "data"


def test_protocol_leaves_the_global_rng_alone(small_dataset, tmp_path):
    np.random.seed(123)  # noqa: NPY002 (the global RNG is what the protocol must not disturb)
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    datasets.load_factors(
        "movielens-100k", 2, 7, data_home=small_dataset, cache_home=tmp_path, progress=False
    )
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_embeddings_are_cached_and_corruption_is_rebuilt(small_dataset, tmp_path, monkeypatch):
    home = {"data_home": small_dataset, "cache_home": tmp_path / "cache", "progress": False}
    first, _ = datasets.load_factors("movielens-100k", 3, 13, **home)
    cached = next((tmp_path / "cache").rglob("nmf_dim3_seed13.npz"))
    calls = []
    real = datasets.nmf_factors

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(nmf_module, "nmf_factors", counting)  # what load_factors calls
    again, _ = datasets.load_factors("movielens-100k", 3, 13, **home)
    assert calls == [] and np.array_equal(first, again)

    cached.write_bytes(cached.read_bytes()[:100])  # truncated
    with pytest.warns(UserWarning, match="is corrupt"):
        rebuilt, _ = datasets.load_factors("movielens-100k", 3, 13, **home)
    assert calls == [1] and np.array_equal(rebuilt, first)

    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit, possibly still a loadable file
    cached.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="is corrupt"):
        datasets.load_factors("movielens-100k", 3, 13, **home)
    assert calls == [1, 1]
    assert not list(tmp_path.rglob("*.tmp"))
    # another seed or dim is another cache entry
    datasets.load_factors("movielens-100k", 3, 14, **home)
    assert calls == [1, 1, 1]


@pytest.mark.slow
def test_rentrunway_preprocessed_csv(tmp_path):
    shared("rentrunway", "rentrunway_preproc.csv")
    users = rq.load_users("rentrunway", 5, 13, data_home=SHARED, cache_home=tmp_path)
    assert users.shape[1] == 5 and 70_000 < users.shape[0] < 105_508
    np.testing.assert_allclose(users.sum(axis=1), 1.0, rtol=1e-12)
    assert (users >= 0).all()


def _rentrunway_json_from_csv(csv: Path, target: Path):
    """The raw JSON lines format, rebuilt from the preprocessed CSV (ratings back to 2..10),
    with rows lacking a rating interleaved, as in the official file."""
    frame = pd.read_csv(csv)
    with gzip.open(target, "wt", encoding="utf-8") as out:
        for i, row in enumerate(frame.itertuples(index=False)):
            entry = {
                "fit": "fit",
                "user_id": str(row.user_id),
                "item_id": str(row.item_id),
                "rating": str(int(row.rating * 2)),
                "category": "dress",
            }
            out.write(json.dumps(entry) + "\n")
            if i % 2500 == 0:
                out.write(json.dumps({"user_id": "1", "item_id": "2", "rating": None}) + "\n")


@pytest.mark.slow
def test_rentrunway_raw_json_gives_the_preprocessed_table(tmp_path):
    csv = shared("rentrunway", "rentrunway_preproc.csv")
    raw = tmp_path / "rentrunway" / "renttherunway_final_data.json.gz"
    raw.parent.mkdir()
    _rentrunway_json_from_csv(csv, raw)
    info = datasets.DATASETS["rentrunway"]
    from_json = datasets.read_ratings(info, raw)
    from_csv = datasets.read_ratings(info, csv)
    assert len(from_json) == len(from_csv) == 192_462
    pd.testing.assert_frame_equal(
        from_json.astype({"user_id": int, "item_id": int}), from_csv, check_dtype=False
    )
    # and the loader accepts the raw file, recording its checksum for later loads
    path, digest = fetch.find_raw_file(info, tmp_path, download=False, progress=False)
    assert path == raw
    assert (raw.parent / (raw.name + ".sha256")).read_text().split()[0] == digest


AMAZON_ROWS = [
    ("0001388703", "A1ZCPG3D3HGRSS", 5.0, 1387670400),
    ("0001388703", "AC2PL52NKPL29", 5.0, 1378857600),
    ("B01HJ91P94", "A1ZCPG3D3HGRSS", 4.0, 1520035200),
    ("B01HJ91P94", "A2N53GHW73INDH", 3.0, 1516752000),
    ("B01HJ91IVY", "AC2PL52NKPL29", 1.0, 1519344000),
    ("B01HJ91IVY", "A2N53GHW73INDH", 5.0, 1494979200),
    ("0001388703", "A2N53GHW73INDH", 2.0, 1494979200),
] * 4  # 28 rows; repeats are duplicate (user, item) pairs, kept as the protocol does


@pytest.mark.parametrize("header", [True, False])
def test_amazon_loader_on_a_small_table_in_its_format(tmp_path, monkeypatch, header):
    target = tmp_path / "amazon-digital-music" / "Digital_Music.csv"
    target.parent.mkdir()
    lines = ["item_id,user_id,rating,timestamp"] if header else []
    lines += [f"{i},{u},{r},{t}" for i, u, r, t in AMAZON_ROWS]
    target.write_text("\n".join(lines) + "\n")
    spec = datasets.DATASETS["amazon-digital-music"]
    small = datasets.DatasetInfo(
        spec.name,
        spec.description,
        (
            datasets.RawFile(
                spec.files[0].path, spec.files[0].urls, rows=len(AMAZON_ROWS), kind="amazon"
            ),
        ),
    )
    monkeypatch.setitem(datasets.DATASETS, "amazon-digital-music", small)
    users = rq.load_users(
        "amazon-digital-music",
        2,
        3,
        data_home=tmp_path,
        cache_home=tmp_path / "cache",
        progress=False,
    )
    assert users.shape[1] == 2 and 1 <= users.shape[0] <= 3
    np.testing.assert_allclose(users.sum(axis=1), 1.0)
    table = datasets.read_ratings(small, target)
    assert table["user_id"].iloc[0] == "A1ZCPG3D3HGRSS" and table["item_id"].iloc[0] == "0001388703"


@pytest.mark.slow
def test_the_full_amazon_scale_runs_on_a_synthetic_population():
    """~714,000 users (the Amazon fold) cannot be downloaded here: the same size, synthetic."""
    users = rq.synthetic_users("uniform", 714_000, 10, seed=0)
    game = rq.EngagementGame(users, 20, "softmax", 1.0)
    result = rq.best_response_dynamics(game, seed=0)
    assert result.converged and game.is_nash(result.profile)
    env = rq.parallel_env(game=game, action_type="discrete")
    env.reset(seed=0)
    _, rewards, *_ = env.step({a: 0 for a in env.agents})
    assert np.isfinite(list(rewards.values())).all()


def _serve(payload: bytes):
    class Response(io.BytesIO):
        @property
        def headers(self):
            return {"Content-Length": str(len(payload))}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    return lambda request, timeout=None: Response(payload)


def test_download_verifies_and_extracts(tmp_path, monkeypatch):
    data = shared("ml-100k", "u.data").read_bytes()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ml-100k/u.data", data)
    payload = archive.getvalue()
    spec = datasets.DATASETS["movielens-100k"]
    ours = datasets.DatasetInfo(
        spec.name,
        spec.description,
        (
            datasets.RawFile(
                **{**spec.files[0].__dict__, "archive_md5": hashlib.md5(payload).hexdigest()}
            ),
        ),
    )
    monkeypatch.setitem(datasets.DATASETS, "movielens-100k", ours)
    monkeypatch.setattr(fetch.urllib.request, "urlopen", _serve(payload))
    path, digest = fetch.find_raw_file(ours, tmp_path, download=True, progress=False)
    assert path == tmp_path / "ml-100k" / "u.data" and path.read_bytes() == data
    assert digest == spec.files[0].sha256


def test_download_with_a_wrong_checksum_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch.urllib.request, "urlopen", _serve(b"not the archive"))
    with pytest.raises(datasets.DatasetUnavailableError, match="does not match the published"):
        rq.load_users(
            "movielens-100k", 2, 0, data_home=tmp_path, cache_home=tmp_path, progress=False
        )
    assert not (tmp_path / "ml-100k" / "u.data").exists()


def test_offline_missing_file_says_which_where_and_from_where(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(fetch.urllib.request, "urlopen", offline)
    with pytest.raises(datasets.DatasetUnavailableError) as err:
        rq.load_users("movielens-100k", 5, 5, data_home=tmp_path, cache_home=tmp_path)
    message = str(err.value)
    assert "ml-100k/u.data is missing" in message
    assert str(tmp_path / "ml-100k" / "u.data") in message
    assert "https://files.grouplens.org/datasets/movielens/ml-100k.zip" in message
    assert "no network" in message and "RECSYS_EQ_DATA" in message
    with pytest.raises(datasets.DatasetUnavailableError, match="downloads are disabled"):
        rq.load_users("rentrunway", 5, 5, data_home=tmp_path, download=False)


def test_a_tampered_raw_file_is_refused(tmp_path):
    original = shared("ml-100k", "u.data").read_text().splitlines()
    target = tmp_path / "ml-100k" / "u.data"
    target.parent.mkdir()
    target.write_text("\n".join(original[:-1]) + "\n")
    with pytest.raises(ValueError, match="does not match the official file"):
        rq.load_users("movielens-100k", 5, 5, data_home=tmp_path, cache_home=tmp_path)


def test_users_from_ratings_any_table():
    table = pd.DataFrame(
        [(u, i, 1 + (u * 7 + i * 3) % 5) for u in range(30) for i in range(12) if (u + i) % 3],
        columns=["user_id", "item_id", "rating"],
    )
    users = rq.users_from_ratings(table, 3, 0)
    assert users.shape[1] == 3 and users.shape[0] <= 30
    again = rq.users_from_ratings(table.to_numpy(), 3, 0)
    assert np.array_equal(users, again)
    assert not np.array_equal(users, rq.users_from_ratings(table, 3, 1))


@pytest.mark.parametrize(
    ("ratings", "kwargs", "error", "message"),
    [
        (
            pd.DataFrame(columns=["user_id", "item_id", "rating"]),
            {},
            ValueError,
            "ratings is empty",
        ),
        ([[1, 2, "good"]], {}, ValueError, "non-numeric or missing rating in row 0: 'good'"),
        (
            [[1, 2, 4.0], [1, 3, 7.0]],
            {},
            ValueError,
            r"1 values outside the rating scale 1..5 \(e.g. 7 in row 1\)",
        ),
        ([[1, 2, 4.0], [1, 3, float("nan")]], {}, ValueError, "missing rating in row 1"),
        ([[1, 2]], {}, ValueError, r"ratings must have 3 columns \(user, item, rating\)"),
        (
            [[1, 2, 4.0], [1, 2, 5.0]],
            {"duplicates": "error"},
            ValueError,
            r"1 duplicate \(user, item\) pairs, e.g. \(1, 2\)",
        ),
        (
            [[1, 2, 4.0]],
            {"duplicates": "drop"},
            ValueError,
            "duplicates must be one of keep, mean, last, error",
        ),
        ([[1, 2, 4.0]], {"rating_scale": (5, 1)}, ValueError, "rating_scale must be finite"),
        ([[1, 2, 4.0]], {"dim": 0}, ValueError, "dim must be >= 1, got 0"),
    ],
)
def test_bad_ratings(ratings, kwargs, error, message):
    call = {"dim": 2, "seed": 0, **kwargs}
    with pytest.raises(error, match=message):
        rq.users_from_ratings(ratings, **call)


def test_duplicate_policies():
    table = pd.DataFrame(
        [(1, 1, 5.0), (1, 1, 3.0), (2, 1, 4.0)], columns=["user_id", "item_id", "rating"]
    )
    assert len(datasets.check_ratings(table, duplicates="keep")) == 3
    assert datasets.check_ratings(table, duplicates="mean")["rating"].tolist() == [4.0, 4.0]
    assert datasets.check_ratings(table, duplicates="last")["rating"].tolist() == [3.0, 4.0]


def test_bad_dataset_arguments(tmp_path):
    with pytest.raises(ValueError, match="name must be one of movielens-100k, rentrunway"):
        rq.load_users("netflix", 5, 5, data_home=tmp_path)
    with pytest.raises(ValueError, match="dim must be >= 1, got 0"):
        rq.load_users("movielens-100k", 0, 5, data_home=tmp_path)
    with pytest.raises(TypeError, match="seed must be an integer"):
        rq.load_users("movielens-100k", 5, "five", data_home=tmp_path)


@pytest.mark.slow
def test_the_amazon_path_from_ratings_file_to_grid(tmp_path, monkeypatch):
    """Issue 12: ratings file -> NMF -> grid, on a generated table of the Amazon file's shape
    (the real file's user/item/rating proportions at 1/80 of its size; the full size is the
    ``nmf-amazon-1.58M`` benchmark). The grid runs in this process (``--jobs 1``) so the
    registry entry patched to the table's row count is the one it reads."""
    import pandas as pd

    from benchmarks.ratings import AMAZON_ITEMS, AMAZON_RATINGS, AMAZON_USERS, write_amazon_csv
    from experiments.cli import main

    scale = 80
    n = AMAZON_RATINGS // scale
    raw = write_amazon_csv(
        tmp_path / "data" / "amazon-digital-music" / "Digital_Music.csv",
        n_ratings=n,
        n_users=AMAZON_USERS // scale,
        n_items=AMAZON_ITEMS // scale,
        seed=3,
    )
    spec = datasets.DATASETS["amazon-digital-music"]
    small = datasets.DatasetInfo(
        spec.name,
        spec.description,
        (datasets.RawFile(spec.files[0].path, spec.files[0].urls, rows=n, kind="amazon"),),
    )
    monkeypatch.setitem(datasets.DATASETS, "amazon-digital-music", small)
    monkeypatch.setenv("RECSYS_EQ_CACHE", str(tmp_path / "cache"))
    config = tmp_path / "amazon.yaml"
    config.write_text(
        "n_users: 1000\nmax_iter: 500\nbase_seed: 1\ndatasets: [amazon-digital-music]\n"
        "dims: [3]\nn_producers: [2, 6]\nembedding_seeds: [13]\n"
        "exp1:\n  runs_per_cell: 2\n  serving: [{rule: softmax, temperature: 1.0}]\n"
        "exp2:\n  runs_per_cell: 1\n"
        "  serving: [{rule: softmax, temperature: 0.1}, {rule: linear}]\n"
        "certify:\n  datasets: [amazon-digital-music]\n  n_users: 1000\n  dims: [3]\n"
        "  n_producers: [2]\n  embedding_seeds: [13]\n  starts: 2\n"
    )
    out = tmp_path / "out"
    common = ["--config", str(config), "--out", str(out), "--jobs", "1", "--no-progress"]
    common += ["--data-home", str(raw.parents[1])]
    assert main(["exp2", *common]) == 0
    table = pd.read_parquet(out / "exp2.parquet")
    assert set(table["dataset"]) == {"amazon-digital-music"} and len(table) == 4
    assert table["converged"].all()
    # the population is the NMF embedding of the file: users who rated in the last fold's
    # training set, L1-normalised rows, cached for the next run
    users = rq.load_users("amazon-digital-music", 3, 13, progress=False)
    assert 0.5 * AMAZON_USERS // scale < len(users) <= AMAZON_USERS // scale
    np.testing.assert_allclose(users.sum(axis=1), 1.0)
    assert datasets.is_cached("amazon-digital-music", 3, 13)
    assert set(table["n_users"]) == {len(users)}


def test_a_cache_entry_answers_only_for_its_own_request(small_dataset, tmp_path):
    """Issue 20: the dim-5 cache (npz and manifest) copied over the dim-3 one returned (K, 5)
    users for dim=3 without a word. The manifest records the request; a mismatch rebuilds."""
    home = {"data_home": small_dataset, "cache_home": tmp_path / "cache", "progress": False}
    three, _ = datasets.load_factors("movielens-100k", 3, 13, **home)
    datasets.load_factors("movielens-100k", 5, 13, **home)
    folder = next((tmp_path / "cache").rglob("nmf_dim5_seed13.npz")).parent
    for suffix in (".npz", ".json"):
        (folder / f"nmf_dim3_seed13{suffix}").write_bytes(
            (folder / f"nmf_dim5_seed13{suffix}").read_bytes()
        )
    with pytest.warns(UserWarning, match=r"made for .*'dim': 5.*asked for .*'dim': 3"):
        again, _ = datasets.load_factors("movielens-100k", 3, 13, **home)
    assert again.shape[1] == 3 and np.array_equal(again, three)


def test_an_empty_checksum_record_is_verified_anew(small_dataset, tmp_path):
    """Issue 20: an empty ``.sha256`` record raised IndexError."""
    home = {"data_home": small_dataset, "cache_home": tmp_path / "cache", "progress": False}
    datasets.load_factors("movielens-100k", 2, 1, **home)
    record = small_dataset / "ml-100k" / "u.data.sha256"
    assert record.exists()
    record.write_text("")
    datasets.load_factors("movielens-100k", 2, 1, **home)
    assert len(record.read_text().split()[0]) == 64


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"\x1f\x8b\x08\x00truncated", "EOFError|BadGzipFile|OSError"),  # a cut gzip stream
        (b"plain text, not gzip\n", "BadGzipFile|OSError"),
        (None, "JSONDecodeError"),  # a valid gzip of broken JSON lines
    ],
)
def test_damaged_rentrunway_files_are_one_clear_error(tmp_path, content, error):
    import gzip

    info = datasets.DATASETS["rentrunway"]
    spec = next(f for f in info.files if f.kind == "rentrunway-json")
    path = tmp_path / spec.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(b'{"user_id": 1, "rating": \n') if content is None else content)
    with pytest.raises(
        ValueError, match=rf"{path.name}: cannot be read as the rentrunway raw file \(({error})"
    ):
        datasets.read_ratings(info, path)

"""File formats: round trips, atomic writes, and every bad-file case."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import regretgap as rg
from regretgap import io
from regretgap.games import random_game, theorem_4_5


@pytest.fixture
def case():
    c = theorem_4_5(5)
    demos = rg.as_demonstrations(
        rg.sample_trajectories(c.game, c.expert, 40, rng=np.random.default_rng(0))
    )
    return c, demos


def test_round_trips(tmp_path, case):
    c, demos = case
    io.save_game(tmp_path / "g.npz", c.game)
    game = io.load_game(tmp_path / "g.npz")
    assert (game.transitions != c.game.transitions).nnz == 0
    np.testing.assert_array_equal(game.rewards, c.game.rewards)
    assert (game.horizon, game.num_actions) == (5, (3, 3))
    for sigma in (c.expert, rg.as_policy(c.game, c.expert).copy()):
        io.save_policy(tmp_path / "p.npz", sigma)
        np.testing.assert_array_equal(io.load_policy(tmp_path / "p.npz", game), sigma)
    io.save_demonstrations(tmp_path / "d.npz", demos)
    back = io.load_demonstrations(tmp_path / "d.npz", game)
    np.testing.assert_array_equal(back.states, demos.states)
    np.testing.assert_array_equal(back.actions, demos.actions)
    big = random_game(500, (2, 3), 4, rng=np.random.default_rng(1))
    io.save_game(tmp_path / "big.npz", big)
    again = io.load_game(tmp_path / "big.npz")
    sigma = rg.uniform_policy(big)
    assert rg.regret(again, sigma).value == rg.regret(big, sigma).value
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.npz", "d.npz", "g.npz", "p.npz"]


def _raw(path: Path, header: dict | str | None, **arrays) -> Path:
    payload = dict(arrays)
    if header is not None:
        payload["header"] = np.array(header if isinstance(header, str) else json.dumps(header))
    np.savez(path, **payload)
    return path


GOOD = {"format": "regretgap", "kind": "policy", "schema": 1}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.npz", "no such file"),
        (lambda p: (p / "t.txt").write_text("hello") and p / "t.txt", "not a readable .npz"),
        (lambda p: _raw(p / "a.npz", None, sigma=np.ones((1, 1))), "no 'header'"),
        (lambda p: _raw(p / "a.npz", "{not json", sigma=np.ones((1, 1))), "not valid JSON"),
        (lambda p: _raw(p / "a.npz", {**GOOD, "format": "other"}), "format 'regretgap'"),
        (lambda p: _raw(p / "a.npz", {**GOOD, "schema": 99}), "schema version 99"),
        (lambda p: _raw(p / "a.npz", {**GOOD, "kind": "game"}), "holds a 'game'"),
        (lambda p: _raw(p / "a.npz", GOOD), "missing arrays ['sigma']"),
        (
            lambda p: _raw(p / "a.npz", GOOD, sigma=np.array([{"x": 1}], dtype=object)),
            "not a readable .npz",
        ),
    ],
)
def test_bad_policy_files(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(io.FileFormatError) as info:
        io.load_policy(path)
    assert message in str(info.value) and str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_truncated_and_corrupt_files(tmp_path, case):
    c, _ = case
    io.save_game(tmp_path / "g.npz", c.game)
    data = (tmp_path / "g.npz").read_bytes()
    for name, blob in [
        ("half.npz", data[: len(data) // 2]),
        ("empty.npz", b""),
        ("flip.npz", data[:40] + bytes(b ^ 0xFF for b in data[40:80]) + data[80:]),
    ]:
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(io.FileFormatError, match=name):
            io.load_game(tmp_path / name)


def test_invalid_contents_use_the_core_checks(tmp_path, case):
    c, demos = case
    game_path = io.save_game(tmp_path / "g.npz", c.game) or tmp_path / "g.npz"
    with np.load(game_path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["transitions_data"] = arrays["transitions_data"] * 2.0
    np.savez(tmp_path / "bad_rows.npz", **arrays)
    with pytest.raises(io.FileFormatError, match="sums to 2"):
        io.load_game(tmp_path / "bad_rows.npz")
    io.save_policy(tmp_path / "p.npz", np.ones((3, 9)) / 9)
    with pytest.raises(io.FileFormatError, match="invalid policy for this game"):
        io.load_policy(tmp_path / "p.npz", c.game)
    io.save_demonstrations(tmp_path / "d.npz", rg.Demonstrations(demos.states + 50, demos.actions))
    with pytest.raises(io.FileFormatError, match="states outside"):
        io.load_demonstrations(tmp_path / "d.npz", c.game)
    io.save_demonstrations(
        tmp_path / "f.npz", rg.Demonstrations(demos.states * 1.0, demos.actions * 1.0)
    )
    with pytest.raises(io.FileFormatError, match="integer arrays"):
        io.load_demonstrations(tmp_path / "f.npz")


def test_atomic_write_leaves_the_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "out.bin"
    io.atomic_write_bytes(target, b"old")

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(io.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        io.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]  # no temporary left behind


def test_files_are_plain_zip_archives(tmp_path, case):
    c, _ = case
    io.save_policy(tmp_path / "p.npz", c.expert)
    with zipfile.ZipFile(tmp_path / "p.npz") as z:
        assert sorted(z.namelist()) == ["header.npy", "sigma.npy"]

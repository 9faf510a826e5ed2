"""File formats: round trips, atomic writes, and every bad-file case."""

from __future__ import annotations

import io as _io
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


# ---------------------------------------------------------------------------------------
# the Python API names bad input, outputs never destroy inputs, zip bombs


def test_api_mistakes_get_named_errors(tmp_path, case):
    c, _ = case
    with pytest.raises(rg.ValidationError, match="got an array of shape"):
        rg.best_response(c.game, c.learner, 0, kind=np.full(3, 1))
    with pytest.raises(rg.ValidationError, match="a flat list of tables"):
        rg.regret(c.game, c.learner, kind=[np.arange(3), np.arange(3)])
    with pytest.raises(rg.ValidationError, match="needs a MarkovGame, got str"):
        io.save_game(tmp_path / "g.npz", "theorem_4_5")
    io.save_policy(tmp_path / "p.npz", c.expert)
    for loader in (io.load_policy, io.load_demonstrations):
        with pytest.raises(rg.ValidationError, match="must be a MarkovGame"):
            loader(tmp_path / "p.npz", "game.npz")
    with pytest.raises(rg.ValidationError, match=r"sums to 4\.5"):
        io.save_policy(tmp_path / "bad.npz", np.full((3, 9), 0.5))
    assert not (tmp_path / "bad.npz").exists()


def test_save_demonstrations_takes_sampled_trajectories(tmp_path, case):
    c, _ = case
    traj = rg.sample_trajectories(c.game, c.expert, 7, rng=np.random.default_rng(3))
    io.save_demonstrations(tmp_path / "d.npz", traj)
    back = io.load_demonstrations(tmp_path / "d.npz", c.game)
    np.testing.assert_array_equal(back.actions, traj.recommended)


def test_float32_policies_have_a_documented_tolerance(tmp_path, case):
    c, _ = case
    rng = np.random.default_rng(0)
    sigma = rng.dirichlet(np.ones(9), size=(5, c.game.num_states)).astype(np.float32)
    off = np.abs(sigma.astype(np.float64).sum(-1) - 1).max()
    assert 1e-8 < off < 1e-6  # what a float32 pipeline produces
    with pytest.raises(rg.ValidationError, match="normalize"):
        rg.as_policy(c.game, sigma)
    assert rg.as_policy(c.game, sigma, atol=1e-6).shape == (5, c.game.num_states, 9)
    fixed = rg.normalize(sigma)
    assert np.abs(fixed.sum(-1) - 1).max() <= 1e-15
    rg.as_policy(c.game, fixed)
    np.testing.assert_allclose(fixed, sigma, atol=1e-6)
    with pytest.raises(rg.ValidationError, match=r"sums to 4\.5"):
        rg.normalize(np.full((2, 9), 0.5))
    io.save_policy(tmp_path / "p32.npz", fixed)
    io.load_policy(tmp_path / "p32.npz", c.game)


def test_outputs_never_destroy_inputs(tmp_path, case):
    c, _ = case
    game_path = tmp_path / "g.npz"
    io.save_game(game_path, c.game)
    before = game_path.read_bytes()
    with pytest.raises(io.OutputError, match="also an input"):
        io.check_output(game_path, inputs=[game_path], overwrite=True)
    with pytest.raises(io.OutputError, match="also an input"):
        io.check_output(tmp_path / "." / "g.npz", inputs=[str(game_path)])
    with pytest.raises(io.OutputError, match="already exists"):
        io.check_output(game_path)
    with pytest.raises(io.OutputError, match="already exists"):
        io.save_policy(game_path, c.expert, overwrite=False)
    assert game_path.read_bytes() == before
    with pytest.raises(io.OutputError, match="does not exist"):
        io.save_policy(tmp_path / "no" / "such" / "p.npz", c.expert)
    assert not (tmp_path / "no").exists()
    io.save_policy(tmp_path / "new.npz", c.expert, overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.npz", "new.npz"]


def test_plain_npy_text_and_folders_get_their_own_messages(tmp_path):
    np.save(tmp_path / "plain.npy", np.ones(3))
    (tmp_path / "text.npz").write_text("hello")
    (tmp_path / "dir.npz").mkdir()
    for name, message in [
        ("plain.npy", "plain .npy array"),
        ("text.npz", "zip signature"),
        ("dir.npz", "is a folder"),
    ]:
        with pytest.raises(io.FileFormatError, match=message) as info:
            io.load_policy(tmp_path / name)
        assert "allow_pickle" not in str(info.value) and "truncated" not in str(info.value)


def test_zip_bombs_are_refused_before_decompressing(tmp_path, monkeypatch):
    # a highly compressible array: 8 MB of zeros is a few KB on disk
    np.savez_compressed(tmp_path / "z.npz", header=np.array("{}"), sigma=np.zeros(1 << 20))
    monkeypatch.setattr(io, "MAX_ARCHIVE_BYTES", 1 << 20)
    with pytest.raises(io.FileFormatError, match="over the limit"):
        io.load_policy(tmp_path / "z.npz")
    # an entry that lies about its size: the directory says 512 KB from a few bytes
    with zipfile.ZipFile(tmp_path / "lie.npz", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sigma.npy", b"x" * 100)
    blob = bytearray((tmp_path / "lie.npz").read_bytes())
    k = blob.rfind(b"PK\x01\x02")  # central directory: uncompressed size at offset 24
    blob[k + 24 : k + 28] = (1 << 19).to_bytes(4, "little")
    (tmp_path / "lie.npz").write_bytes(bytes(blob))
    with pytest.raises(io.FileFormatError, match="not a possible ratio"):
        io.load_policy(tmp_path / "lie.npz")
    # an array header declaring far more data than its entry holds
    header = np.lib.format.header_data_from_array_1_0(np.zeros(3))
    header["shape"] = (10**12,)
    raw = _io.BytesIO()
    np.lib.format.write_array_header_1_0(raw, header)
    with zipfile.ZipFile(tmp_path / "big.npz", "w") as z:
        z.writestr("sigma.npy", raw.getvalue() + b"\0" * 24)
    with pytest.raises(io.FileFormatError, match="declares shape"):
        io.load_policy(tmp_path / "big.npz")


def test_corrupt_csr_indices_are_refused_before_the_kernels(tmp_path, case):
    c, _ = case
    io.save_game(tmp_path / "g.npz", c.game)
    with np.load(tmp_path / "g.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["transitions_indices"] = arrays["transitions_indices"] + 10**6
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(io.FileFormatError, match="transitions_indices outside"):
        io.load_game(tmp_path / "bad.npz")

"""The character-level data pipeline: tokenizer, split, batches, and the corpus download / cache / local path."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from from_scratch import chardata

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 50


@pytest.fixture
def corpus_file(tmp_path):
    path = tmp_path / "source.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path, hashlib.sha256(TEXT.encode()).hexdigest()


def test_tokenizer_round_trip_and_save(tmp_path) -> None:
    tok = chardata.CharTokenizer.from_text(TEXT)
    assert tok.chars == "".join(sorted(set(TEXT)))
    ids = tok.encode(TEXT)
    assert ids.dtype == np.int64 and ids.shape == (len(TEXT),)
    assert tok.decode(ids) == TEXT
    tok.save(tmp_path / "vocab.json")
    assert chardata.CharTokenizer.load(tmp_path / "vocab.json").chars == tok.chars


def test_tokenizer_errors() -> None:
    tok = chardata.CharTokenizer("abc")
    with pytest.raises(ValueError, match=r"outside the vocabulary: \['X', 'z'\]"):
        tok.encode("abzX")
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\)"):
        tok.decode([0, 3])
    with pytest.raises(ValueError, match="distinct"):
        chardata.CharTokenizer("aab")


def test_split_and_blocks() -> None:
    ids = np.arange(100)
    train, val = chardata.train_val_split(ids, 0.1)
    assert len(train) == 90 and len(val) == 10 and val[0] == 90
    x, y = chardata.blocks_at(train, np.array([0, 5, 80]), 9)
    assert x.shape == y.shape == (3, 9)
    np.testing.assert_array_equal(x[1], np.arange(5, 14))
    np.testing.assert_array_equal(y, x + 1)  # targets are the inputs shifted by one position
    with pytest.raises(ValueError, match="val_fraction"):
        chardata.train_val_split(ids, 1.0)
    with pytest.raises(ValueError, match=r"validation split has 10 tokens, fewer than block_size \+ 1 = 11"):
        chardata.eval_batches(val, 1, 2, 10)


def test_step_batches_depend_only_on_rows_per_step() -> None:
    data = np.arange(10_000)
    one = chardata.step_batches(data, step=7, batch_size=8, block_size=16, accumulate=1, seed=3)
    four = chardata.step_batches(data, step=7, batch_size=2, block_size=16, accumulate=4, seed=3)
    assert len(one) == 1 and len(four) == 4 and four[0][0].shape == (2, 16)
    np.testing.assert_array_equal(one[0][0], np.concatenate([x for x, _ in four]))
    again = chardata.step_batches(data, step=7, batch_size=8, block_size=16, seed=3)
    np.testing.assert_array_equal(one[0][0], again[0][0])  # a pure function of (seed, step, rank)
    other_rank = chardata.step_batches(data, step=7, batch_size=8, block_size=16, seed=3, rank=1)
    other_step = chardata.step_batches(data, step=8, batch_size=8, block_size=16, seed=3)
    assert not np.array_equal(one[0][0], other_rank[0][0]) and not np.array_equal(one[0][0], other_step[0][0])
    x, y = one[0]
    assert x.min() >= 0 and y.max() < len(data)


def test_download_verifies_and_caches(tmp_path, corpus_file) -> None:
    source, digest = corpus_file
    cached = chardata.download_corpus(source.as_uri(), digest, tmp_path / "cache")
    assert cached == tmp_path / "cache" / "tinyshakespeare" / "input.txt"
    assert cached.read_text() == TEXT
    source.unlink()  # the second call must not download again
    assert chardata.download_corpus(source.as_uri(), digest, tmp_path / "cache") == cached


def test_checksum_mismatch_is_refused(tmp_path, corpus_file) -> None:
    source, _ = corpus_file
    with pytest.raises(ValueError, match="has sha256 .* expected 0{64}; refusing to cache"):
        chardata.download_corpus(source.as_uri(), "0" * 64, tmp_path / "cache")
    assert not (tmp_path / "cache" / "tinyshakespeare" / "input.txt").exists()
    bad = tmp_path / "cache2" / "tinyshakespeare" / "input.txt"
    bad.parent.mkdir(parents=True)
    bad.write_text("corrupted")
    with pytest.raises(ValueError, match="cached corpus .* delete it"):
        chardata.download_corpus(source.as_uri(), chardata.TINY_SHAKESPEARE_SHA256, tmp_path / "cache2")


def test_offline_error_names_both_fixes(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(chardata.CORPUS_ENV, raising=False)
    with pytest.raises(RuntimeError) as err:
        chardata.resolve_corpus(None, tmp_path, url="http://127.0.0.1:9/input.txt")
    assert "data.corpus_path" in str(err.value) and chardata.CORPUS_ENV in str(err.value)


def test_local_path_precedence(tmp_path, corpus_file, monkeypatch) -> None:
    source, _ = corpus_file
    other = tmp_path / "other.txt"
    other.write_text("hello", encoding="utf-8")
    monkeypatch.setenv(chardata.CORPUS_ENV, str(other))
    assert chardata.resolve_corpus(None, tmp_path / "unused") == other          # the environment variable
    assert chardata.resolve_corpus(source, tmp_path / "unused") == source       # the config option wins
    monkeypatch.setenv(chardata.CORPUS_ENV, str(tmp_path / "missing.txt"))
    with pytest.raises(FileNotFoundError, match=chardata.CORPUS_ENV):
        chardata.resolve_corpus(None, tmp_path)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        chardata.read_corpus(latin1)

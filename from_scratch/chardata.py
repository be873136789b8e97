"""Character-level language-model data in NumPy: the corpus, a tokenizer, the split and the batches.

Shared by the PyTorch mini-GPT (:mod:`torch_versions.gpt_lightning`) and any from-scratch GPT; nothing here imports
torch. The default corpus is tiny Shakespeare (1,115,394 bytes), downloaded once from karpathy/char-rnn, verified
against its SHA-256 and cached under ``data/``. Offline machines point at a local copy instead, with the config
option ``data.corpus_path`` or the environment variable ``AIMATH_CORPUS_PATH``; any UTF-8 text file works.

Batches are a pure function of ``(seed, step, rank)``: optimizer step ``s`` draws its ``k·b`` block offsets from
``default_rng([seed, s, rank])`` and splits them into ``k`` micro-batches of ``b`` rows. So a resumed run sees the
same batches as an uninterrupted one, and ``k`` accumulation steps of batch ``b`` see exactly the rows of one step
of batch ``k·b``.
"""
from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

TINY_SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
TINY_SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
CORPUS_ENV = "AIMATH_CORPUS_PATH"
DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_corpus(url: str = TINY_SHAKESPEARE_URL, sha256: str = TINY_SHAKESPEARE_SHA256,
                    cache_dir: str | os.PathLike = DATA_DIR, timeout: float = 30.0) -> Path:
    """Return the cached copy of ``url`` under ``cache_dir/tinyshakespeare/``, downloading and verifying it first.

    The file is written to a temporary name and renamed only after its SHA-256 matched, so a cache never holds a
    partial or corrupt corpus. Raises ``ValueError`` on a checksum mismatch and ``RuntimeError`` when offline.
    """
    target = Path(cache_dir) / "tinyshakespeare" / "input.txt"
    if target.exists():
        got = sha256_of(target)
        if got == sha256:
            return target
        raise ValueError(f"cached corpus {target} has sha256 {got}, expected {sha256}; delete it to download again")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            payload = response.read()
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise RuntimeError(
            f"could not download the corpus from {url} ({err}). On a machine without internet, point at a local "
            f"copy instead: set `data.corpus_path` in the config (e.g. --data.corpus_path PATH) or the environment "
            f"variable {CORPUS_ENV}=PATH.") from err
    got = hashlib.sha256(payload).hexdigest()
    if got != sha256:
        raise ValueError(f"downloaded corpus from {url} has sha256 {got}, expected {sha256}; refusing to cache it")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(payload)
    partial.replace(target)
    return target


def resolve_corpus(corpus_path: str | os.PathLike | None = None, cache_dir: str | os.PathLike = DATA_DIR,
                   url: str = TINY_SHAKESPEARE_URL, sha256: str = TINY_SHAKESPEARE_SHA256) -> Path:
    """The corpus file to use: ``corpus_path``, else ``$AIMATH_CORPUS_PATH``, else the verified tiny Shakespeare."""
    chosen = corpus_path or os.environ.get(CORPUS_ENV) or None
    if chosen is None:
        return download_corpus(url, sha256, cache_dir)
    path = Path(chosen).expanduser()
    if not path.is_file():
        source = "data.corpus_path" if corpus_path else CORPUS_ENV
        raise FileNotFoundError(f"{source} points at {path}, which is not a file")
    return path


def read_corpus(path: str | os.PathLike) -> str:
    """The text of a UTF-8 file (``ValueError`` naming the file if it is not UTF-8 or is empty)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"corpus {path} is not UTF-8 text: {err}") from err
    if not text:
        raise ValueError(f"corpus {path} is empty")
    return text


class CharTokenizer:
    """Characters ↔ integer ids: id ``i`` is the ``i``-th of the sorted distinct characters of the corpus."""

    def __init__(self, chars: str) -> None:
        if not chars or len(set(chars)) != len(chars):
            raise ValueError(f"chars must be a non-empty string of distinct characters, got {chars!r:.60}")
        self.chars = chars
        self._index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> "CharTokenizer":
        return cls("".join(sorted(set(text))))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """``(len(text),)`` int64 ids; ``ValueError`` listing the characters outside the vocabulary."""
        unknown = sorted(set(text) - self._index.keys())
        if unknown:
            raise ValueError(f"text has {len(unknown)} character(s) outside the vocabulary: {unknown!r:.200}")
        return np.fromiter((self._index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        ids = np.asarray(ids).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"ids must lie in [0, {self.vocab_size}), got range [{ids.min()}, {ids.max()}]")
        return "".join(self.chars[i] for i in ids.tolist())

    def save(self, path: str | os.PathLike) -> None:
        Path(path).write_text(json.dumps({"chars": self.chars}, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CharTokenizer":
        return cls(json.loads(Path(path).read_text(encoding="utf-8"))["chars"])


def train_val_split(ids: np.ndarray, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """The first ``1 - val_fraction`` of the ids for training, the rest for validation (contiguous, as nanoGPT)."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction}")
    n = int(round(len(ids) * (1.0 - val_fraction)))
    return ids[:n], ids[n:]


def check_block_size(name: str, data: np.ndarray, block_size: int) -> None:
    """A block needs ``block_size + 1`` consecutive ids (inputs and shifted targets)."""
    if len(data) < block_size + 1:
        raise ValueError(f"the {name} split has {len(data)} tokens, fewer than block_size + 1 = {block_size + 1}; "
                         f"use a shorter context (model block_size) or a longer corpus")


def blocks_at(data: np.ndarray, offsets: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``x[r] = data[o_r : o_r+T]`` and targets ``y[r] = data[o_r+1 : o_r+T+1]``, both ``(R, T)`` int64."""
    index = offsets[:, None] + np.arange(block_size + 1)[None, :]
    rows = data[index]
    return rows[:, :-1].astype(np.int64), rows[:, 1:].astype(np.int64)


def step_batches(data: np.ndarray, step: int, batch_size: int, block_size: int, accumulate: int = 1,
                 seed: int = 0, rank: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``accumulate`` micro-batches ``(x, y)`` of optimizer step ``step``, each ``(batch_size, block_size)``.

    The ``accumulate·batch_size`` offsets are uniform on ``[0, len(data) - block_size - 1]`` and drawn from
    ``default_rng([seed, step, rank])``, so the rows depend only on the product ``accumulate·batch_size``.
    """
    check_block_size("training", data, block_size)
    rng = np.random.default_rng([seed, step, rank])
    offsets = rng.integers(0, len(data) - block_size, size=accumulate * batch_size)
    return [blocks_at(data, chunk, block_size) for chunk in np.split(offsets, accumulate)]


def eval_batches(data: np.ndarray, n_batches: int, batch_size: int, block_size: int,
                 seed: int = 1234) -> list[tuple[np.ndarray, np.ndarray]]:
    """A fixed set of ``n_batches`` random blocks of the validation split (the same at every evaluation)."""
    check_block_size("validation", data, block_size)
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, len(data) - block_size, size=(n_batches, batch_size))
    return [blocks_at(data, row, block_size) for row in offsets]

"""Word lists for makemore: reading them, the offline default, downloading names.txt,
the character vocabulary and the (context -> next character) examples of the lecture."""
import hashlib
import os
import random
import re
import stat
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

import tensorgrad as tg

MAKEMORE_NAMES_URL = "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt"
MAKEMORE_NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
SOURCES = ("default", "makemore-names")  # the names --data accepts besides a path
MAX_WORD_LENGTH = 1000        # makemore's types pad every word to the longest: a longer line is not a word
MAX_FILE_BYTES = 1 << 30      # a word list larger than 1 GiB is refused before it is read


class DataError(ValueError):
    """A word list that cannot be used; the message says which file and line, and why."""


# ----------------------------------------------------------------------------
# reading word lists

def load_words(source: str = "default", vocab: "Vocab | None" = None) -> list[str]:
    """The words of `source`: a path to a text file with one word per line, 'default' (US
    Census first names, shipped in the `names` package, works offline) or 'makemore-names'
    (makemore's names.txt, downloaded once). With vocab, every character must be in it."""
    if source == "default":
        entries = census_first_names()
    elif source == "makemore-names":
        entries = _read_lines(fetch_makemore_names())
    else:
        entries = _read_lines(source)
    if vocab is not None:
        for path, lineno, word in entries:
            for ch in word:
                if ch not in vocab.stoi:
                    raise DataError(f"{path}, line {lineno}: the word {word!r} has the character {ch!r}, which is "
                                    f"not in the checkpoint's vocabulary {vocab.chars!r}")
    return [word for _, _, word in entries]


def _read_lines(path) -> list[tuple]:
    """(path, line number, word) for each non-blank line of a UTF-8 text file of words."""
    path = Path(path)
    entries = []
    for lineno, word in _text_lines(path):
        if len(word) > MAX_WORD_LENGTH:
            raise DataError(f"{path}, line {lineno}: a word of {len(word)} characters; a word list has one word "
                            f"per line, and words of at most {MAX_WORD_LENGTH} characters")
        if "." in word:
            raise DataError(f"{path}, line {lineno}: the word {word!r} contains '.', the character that "
                            "marks the start and end of words")
        if word:
            entries.append((path, lineno, word))
    if not entries:
        raise DataError(f"{path}: no words (the file is empty or blank); expected one word per line")
    return entries


def read_bytes(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; DataError for anything else (a device such as
    /dev/zero, a FIFO, a directory: checked before opening, so that nothing blocks or reads forever)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise DataError(f"{path}: not a regular file (a directory, device or pipe); expected a text file "
                            "with one word per line")
        if info.st_size > MAX_FILE_BYTES:
            raise DataError(f"{path}: {info.st_size} bytes, more than the {MAX_FILE_BYTES} a word list may have")
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            raw = f.read(info.st_size + 1)   # (read(n) allocates n bytes up front)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file (give a text file with one word per line, or one of "
                        f"{', '.join(SOURCES)})") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read it ({e.strerror or e})") from None
    return raw


def _text_lines(path: Path) -> list[tuple]:
    """(line number, stripped line) for every line of a UTF-8 text file (\n, \r\n or \r line ends)."""
    raw = read_bytes(path)
    if raw.startswith(b"\xef\xbb\xbf"):   # a UTF-8 byte-order mark
        raw = raw[3:]
    if b"\0" in raw:   # binary files (images, archives, numpy arrays) have NUL bytes, text never
        lineno = len(re.findall(rb"\r\n|\r|\n", raw[:raw.index(b"\0")])) + 1
        raise DataError(f"{path}, line {lineno}: this is not a text file (it has NUL bytes); "
                        "expected one word per line")
    lines = []
    for lineno, line in enumerate(re.split(rb"\r\n|\r|\n", raw), 1):
        try:
            lines.append((lineno, line.decode("utf-8").strip()))
        except UnicodeDecodeError as e:
            raise DataError(f"{path}, line {lineno}: this is not UTF-8 text (byte {line[e.start]:#04x} at column "
                            f"{e.start + 1}); expected a text file with one word per line") from None
    return lines


def census_first_names() -> list[tuple]:
    """The 1990 US Census first names shipped in the PyPI package `names`: lower-cased,
    a-z only, each once (5,163 names), as (path, line number, word)."""
    import names  # a dependency; imported here so that other sources do not need it
    entries, seen = [], set()
    for key in ("first:male", "first:female"):
        path = Path(names.FILES[key])
        for lineno, line in _text_lines(path):
            word = line.split()[0].lower() if line else ""
            if word.isascii() and word.isalpha() and word not in seen:
                seen.add(word)
                entries.append((path, lineno, word))
    return entries


# ----------------------------------------------------------------------------
# makemore's names.txt: downloaded once, checked, cached

def cache_dir() -> Path:
    """$TENSORGRAD_CACHE, else $XDG_CACHE_HOME/tensorgrad, else ~/.cache/tensorgrad."""
    if os.environ.get("TENSORGRAD_CACHE"):
        return Path(os.environ["TENSORGRAD_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tensorgrad"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _download(url: str, dest: Path) -> None:
    """Write the bytes at url to dest (tests replace this function: they never use the network)."""
    with urllib.request.urlopen(url, timeout=30) as response:
        dest.write_bytes(response.read())


def fetch_makemore_names() -> Path:
    """The path of names.txt in the cache, downloading it first if it is missing or damaged."""
    cache = cache_dir()
    path = cache / "names.txt"
    if path.is_file() and _sha256(path) == MAKEMORE_NAMES_SHA256:
        return path
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache, prefix="names.txt.", suffix=".part")
    os.close(fd)
    tmp = Path(tmp)
    try:
        try:
            _download(MAKEMORE_NAMES_URL, tmp)
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", None) or e
            raise DataError(f"could not download makemore's names.txt from {MAKEMORE_NAMES_URL} ({reason}). "
                            "Are you offline? Download it by hand and pass --data PATH, "
                            "or use --data default (works offline)") from None
        digest = _sha256(tmp)
        if digest != MAKEMORE_NAMES_SHA256:
            raise DataError(f"the download of {MAKEMORE_NAMES_URL} has sha256 {digest}, expected "
                            f"{MAKEMORE_NAMES_SHA256}; not using it")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# ----------------------------------------------------------------------------
# vocabulary and examples

class Vocab:
    """Characters <-> integers: '.' is 0 and marks the start and end of a word, then the
    characters of the data in sorted order (a-z give 1-26, as in the lecture)."""

    def __init__(self, chars: str):
        chars = "".join(sorted(set(chars) - {"."}))
        self.itos = ["."] + list(chars)
        self.stoi = {ch: i for i, ch in enumerate(self.itos)}

    @classmethod
    def from_words(cls, words) -> "Vocab":
        return cls("".join(words))

    @property
    def chars(self) -> str:
        """All characters in index order, '.' first: Vocab(v.chars) == v."""
        return "".join(self.itos)

    def __len__(self) -> int:
        return len(self.itos)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos

    def __repr__(self):
        return f"Vocab({self.chars!r})"

    def encode(self, word: str) -> list[int]:
        return [self.stoi[ch] for ch in word]

    def decode(self, ixs) -> str:
        return "".join(self.itos[int(i)] for i in ixs)


def build_dataset(words, block_size: int, vocab: Vocab) -> tuple:
    """X (N, block_size) int64 contexts and Y (N,) the character that follows each, one
    example per character of each word plus its final '.', as in the lecture."""
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = vocab.stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]   # crop and append
    X = np.array(X, dtype=np.int64).reshape(len(Y), block_size)  # (N, block_size)
    Y = np.array(Y, dtype=np.int64)                                # (N,)
    return tg.tensor(X), tg.tensor(Y)


def split_words(words, seed: int = 42, source: str = "the word list") -> tuple:
    """The lecture's split: shuffle with random.seed(42), then 80% train, 10% val, 10% test."""
    words = list(words)
    random.Random(seed).shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    train, val, test = words[:n1], words[n1:n2], words[n2:]
    if not (train and val and test):
        raise DataError(f"{source}: {len(words)} words are too few for an 80/10/10 train/val/test split "
                        "(give at least 10)")
    return train, val, test


# ----------------------------------------------------------------------------
# makemore.py's data: whole words, padded to the longest, and a test split of min(1000, 10%)

def makemore_split(words, seed: int, source: str = "the word list") -> tuple:
    """makemore.py's split: a random permutation (here NumPy's, seeded), the last min(1000, 10%)
    words for test and the rest for training."""
    words = list(words)
    n_test = min(1000, int(len(words) * 0.1))
    if n_test < 1 or n_test >= len(words):
        raise DataError(f"{source}: {len(words)} words are too few for makemore's train/test split "
                        "(give at least 10)")
    perm = np.random.default_rng(seed).permutation(len(words))
    return [words[i] for i in perm[:-n_test]], [words[i] for i in perm[-n_test:]]


def build_sequences(words, vocab: Vocab, max_word_length: int) -> tuple:
    """makemore.py's examples, one per word: X (N, T) is '.' then the word, Y (N, T) the word then
    '.', then -1 (ignored by the loss) to the end; T = max_word_length + 1."""
    T = max_word_length + 1
    X = np.zeros((len(words), T), dtype=np.int64)      # (N, T)
    Y = np.full((len(words), T), -1, dtype=np.int64)   # (N, T)
    for i, w in enumerate(words):
        if len(w) > max_word_length:
            raise DataError(f"the word {w!r} is longer than the model's {max_word_length} characters")
        ix = vocab.encode(w)
        X[i, 1:1 + len(ix)] = ix
        Y[i, :len(ix)] = ix
        Y[i, len(ix)] = 0                               # the '.' that ends the word
    return X, Y


def local_names_txt() -> Path:
    """Where a checkout looks for makemore's names.txt on disk (tests, examples, benchmarks):
    $TENSORGRAD_NAMES, else shared/data/names.txt beside the checkout or beside a folder above it
    (a git worktree); the first of those places if none has it."""
    if os.environ.get("TENSORGRAD_NAMES"):
        return Path(os.environ["TENSORGRAD_NAMES"])
    root = Path(__file__).resolve().parents[1]
    places = [base / "shared" / "data" / "names.txt" for base in root.parents]
    return next((p for p in places if p.is_file()), places[0])

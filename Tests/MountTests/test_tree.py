"""Names and directories: nesting, directory markers, 10,000 keys in one directory, unicode, keys that cannot be
POSIX names, an object beside a prefix of the same name, BUCKET:PREFIX mounts."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import unicodedata

import pytest

from conftest import det_bytes, expect_errno, list_keys, live_daemons, put_many

NESTED_DIRS = ["a", "b", "c", "d", "e"]
MANY = 10_000

UNICODE_KEYS = [
    "données/日本語 ファイル.txt",
    "données/naïve résumé.md",
    "emoji 😀/🎉 party 🎈.bin",
    "emoji 😀/👩‍👩‍👧 family.txt",
    "spaces/ leading space.txt",
    "spaces/trailing space .txt",
    "spaces/two  inner   spaces",
    "mixed/Ωmega-Ελληνικά-عربى-עברית.dat",
    # NFC and NFD spellings of "café": two different keys, so two different names
    "nf/" + unicodedata.normalize("NFC", "café.txt"),
    "nf/" + unicodedata.normalize("NFD", "café.txt"),
]

LONG_SEGMENT = "L" * 256  # one byte over NAME_MAX
BAD_KEYS = [
    "badkeys/bad//double",
    "badkeys/dot/./x",
    "badkeys/dotdot/../x",
    "badkeys/dotdot/../../escape",
    "badkeys/./top",
    "badkeys/../outside",
    f"badkeys/long/{LONG_SEGMENT}",
    f"badkeys/longdir/{LONG_SEGMENT}/inner",
    "badkeys//leading-empty",
]
GOOD_BESIDE_BAD = [
    "badkeys/ok.txt",
    "badkeys/bad/fine",
    "badkeys/dot/fine",
    "badkeys/dotdot/fine",
    "badkeys/long/" + "S" * 255,  # exactly NAME_MAX: a valid name
    "badkeys/longdir/fine",
]


def body(key: str) -> bytes:
    return det_bytes("tree/" + key, 100 + len(key.encode()) % 50)


@pytest.fixture(scope="module")
def tree(s3, env, prefix) -> dict[str, bytes]:
    """rel path (under the session prefix) -> bytes of every object this module uploads."""
    items: dict[str, bytes] = {}
    # nested: tree/a/f1, tree/a/b/f2, ... tree/a/b/c/d/e/file
    path = "tree"
    for depth, d in enumerate(NESTED_DIRS, 1):
        path += "/" + d
        items[f"{path}/f{depth}"] = body(f"{path}/f{depth}")
    items[f"{path}/file"] = body(f"{path}/file")
    items["tree/emptydir/"] = b""  # an explicit directory marker with nothing under it
    items["tree/marked/"] = b""  # a marker with a file under it
    items["tree/marked/child"] = body("tree/marked/child")
    for k in UNICODE_KEYS + BAD_KEYS + GOOD_BESIDE_BAD:
        items[k] = body(k)
    items["clash/clash"] = b"i am the object named clash"
    items["clash/clash/inner"] = b"i am inside the prefix clash/"
    # for BUCKET:PREFIX: the mounted prefix, a sibling with the same leading characters, and a file beside it
    items["pfx/inside/one.txt"] = body("pfx/inside/one.txt")
    items["pfx/inside/sub/two.txt"] = body("pfx/inside/sub/two.txt")
    items["pfx/inside-sibling/no.txt"] = body("pfx/inside-sibling/no.txt")
    items["pfx/insidex.txt"] = body("pfx/insidex.txt")
    items["pfx/outside.txt"] = body("pfx/outside.txt")
    put_many(s3, env.bucket, {prefix + k: v for k, v in items.items()})
    # the premise: the server stored every odd key exactly as given (no "//", "." or ".." normalised away)
    stored = set(list_keys(s3, env.bucket, prefix))
    missing = {k for k in items if prefix + k not in stored}
    assert not missing, f"the S3 server did not store these keys verbatim: {sorted(missing)}"
    return items


@pytest.fixture(scope="module")
def many(s3, env, prefix) -> set[str]:
    """many/: 10,000 tiny objects with names of varying length and characters."""
    names = {f"k{i:05d}{'-x' * (i % 7)}{'.txt' if i % 3 else ''}" for i in range(MANY)}
    assert len(names) == MANY
    put_many(s3, env.bucket, {f"{prefix}many/{n}": n.encode() for n in names}, threads=32)
    return names


@pytest.fixture(scope="module")
def m(module_mounter, env, prefix, tree, many):
    return module_mounter.mount(f"{env.bucket}:{prefix}")


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


# ---------------------------------------------------------------------------------------------------------------


def test_nested_five_deep_listed_at_every_level(m, tree):
    here = m.p("tree")
    assert sorted(os.listdir(here)) == ["a", "emptydir", "marked"]
    rel = "tree"
    for depth, d in enumerate(NESTED_DIRS, 1):
        here = os.path.join(here, d)
        rel += "/" + d
        st = os.stat(here)
        assert stat.S_ISDIR(st.st_mode), f"{rel} is not a directory"
        want = {f"f{depth}"} | ({NESTED_DIRS[depth]} if depth < len(NESTED_DIRS) else {"file"})
        assert set(os.listdir(here)) == want, f"listing of {rel}"
        assert stat.S_ISREG(os.stat(os.path.join(here, f"f{depth}")).st_mode)
        assert read(os.path.join(here, f"f{depth}")) == tree[f"{rel}/f{depth}"]
    deepest = os.path.join(here, "file")
    assert os.stat(deepest).st_size == len(tree[f"{rel}/file"])
    assert read(deepest) == tree[f"{rel}/file"]
    # os.walk sees exactly the nested layout
    walked = {os.path.relpath(os.path.join(d, f), m.p()) for d, _, fs in os.walk(m.p("tree", "a")) for f in fs}
    assert walked == {k for k in tree if k.startswith("tree/a/")}


def test_empty_directory_marker_is_an_empty_directory(m, tree):
    path = m.p("tree", "emptydir")
    assert stat.S_ISDIR(os.stat(path).st_mode)
    assert os.listdir(path) == []
    # the marker object itself never shows up as a file named "" or similar
    assert sorted(os.listdir(m.p("tree", "marked"))) == ["child"]
    assert read(m.p("tree", "marked", "child")) == tree["tree/marked/child"]


def test_ten_thousand_keys_in_one_directory(m, many):
    names = os.listdir(m.p("many"))
    assert len(names) == MANY
    assert set(names) == many
    # a listing through scandir gives the same set, with file types
    with os.scandir(m.p("many")) as it:
        entries = {e.name: e.is_file() for e in it}
    assert set(entries) == many and all(entries.values())
    for n in ("k00000", "k09999.txt", sorted(many)[5000]):
        if n in many:
            assert read(m.p("many", n)) == n.encode()


def test_unicode_and_space_names_exact(m, tree):
    by_dir: dict[str, set[str]] = {}
    for k in UNICODE_KEYS:
        d, _, n = k.rpartition("/")
        by_dir.setdefault(d, set()).add(n)
    for d, names in by_dir.items():
        # listdir on a str path decodes with the filesystem encoding (utf-8): compare the raw bytes too
        assert set(os.listdir(m.p(d))) == names, f"listing of {d!r}"
        assert set(os.listdir(m.p(d).encode())) == {n.encode() for n in names}
    assert len(os.listdir(m.p("nf"))) == 2, "NFC and NFD spellings of café.txt must be two names"
    for k in UNICODE_KEYS:
        path = m.p(*k.split("/"))
        assert os.stat(path).st_size == len(tree[k])
        assert hashlib.sha256(read(path)).digest() == hashlib.sha256(tree[k]).digest(), k


def assert_sane_tree(root: str) -> list[str]:
    """Walk root: every name is a valid POSIX name and every path stays inside root. Returns the relative files."""
    real_root = os.path.realpath(root)
    files = []
    for d, dirs, fs in os.walk(root):
        assert os.path.realpath(d).startswith(real_root + os.sep) or os.path.realpath(d) == real_root
        for n in dirs + fs:
            assert n not in ("", ".", ".."), f"invalid name {n!r} listed in {d}"
            assert "/" not in n and "\0" not in n
            assert len(n.encode()) <= 255, f"name of {len(n.encode())} bytes listed in {d}"
            assert os.path.realpath(os.path.join(d, n)).startswith(real_root + os.sep)
        files += [os.path.relpath(os.path.join(d, f), root) for f in fs]
    return files


def test_keys_that_cannot_be_names_are_hidden(m, tree):
    root = m.p("badkeys")
    files = assert_sane_tree(root)
    # exactly the valid keys are visible, nothing else
    assert sorted(files) == sorted(k[len("badkeys/"):] for k in GOOD_BESIDE_BAD)
    assert sorted(os.listdir(root)) == ["bad", "dot", "dotdot", "long", "longdir", "ok.txt"]
    assert os.listdir(m.p("badkeys", "bad")) == ["fine"]
    assert os.listdir(m.p("badkeys", "dot")) == ["fine"]
    assert os.listdir(m.p("badkeys", "dotdot")) == ["fine"]
    assert os.listdir(m.p("badkeys", "long")) == ["S" * 255]
    assert os.listdir(m.p("badkeys", "longdir")) == ["fine"]
    # no normalised spelling of a bad key resolves: "bad//double" is not bad/double, "dot/./x" not dot/x, ...
    for ghost in ["bad/double", "dot/x", "x", "top", "leading-empty", "escape"]:
        expect_errno(errno.ENOENT, os.stat, os.path.join(root, ghost))
    for ghost in ["outside", "escape", "top", "x"]:
        expect_errno(errno.ENOENT, os.stat, m.p(ghost))
    assert not os.path.exists(os.path.join(os.path.dirname(m.path), "outside"))
    assert not os.path.exists(os.path.join(os.path.dirname(m.path), "escape"))
    # a 256-byte name is refused before it reaches the file system
    expect_errno(errno.ENAMETOOLONG, os.stat, os.path.join(root, "long", LONG_SEGMENT))
    # ".." at a directory is the kernel's parent, not a key
    assert os.stat(os.path.join(root, "dotdot", "..")).st_ino == os.stat(root).st_ino
    # the mount still works after listing all of that
    assert read(os.path.join(root, "ok.txt")) == tree["badkeys/ok.txt"]
    assert read(os.path.join(root, "long", "S" * 255)) == tree["badkeys/long/" + "S" * 255]
    assert read(os.path.join(root, "dotdot", "fine")) == tree["badkeys/dotdot/fine"]
    assert "badkeys" in os.listdir(m.p())
    assert len(live_daemons(m.path)) == 1, "the daemon is gone after listing the bad keys"


def test_object_beside_prefix_of_same_name_is_a_directory(m, tree):
    parent = m.p("clash")
    assert os.listdir(parent).count("clash") == 1
    assert os.listdir(parent) == ["clash"]
    path = m.p("clash", "clash")
    assert stat.S_ISDIR(os.stat(path).st_mode), "clash (object) beside clash/inner (prefix): the directory wins"
    with os.scandir(parent) as it:
        assert [(e.name, e.is_dir()) for e in it] == [("clash", True)]
    assert os.listdir(path) == ["inner"]
    assert read(os.path.join(path, "inner")) == tree["clash/clash/inner"]
    expect_errno(errno.EISDIR, read, path)


@pytest.mark.parametrize("spec_prefix", ["pfx/inside", "pfx/inside/"])
def test_bucket_prefix_mounts_only_that_prefix(mounter, env, prefix, tree, spec_prefix):
    mp = mounter.mount(f"{env.bucket}:{prefix}{spec_prefix}")
    assert sorted(os.listdir(mp.p())) == ["one.txt", "sub"]
    assert os.listdir(mp.p("sub")) == ["two.txt"]
    assert read(mp.p("one.txt")) == tree["pfx/inside/one.txt"]
    assert read(mp.p("sub", "two.txt")) == tree["pfx/inside/sub/two.txt"]
    # keys outside the prefix, including those that merely start with the same characters, are not there
    for ghost in ["outside.txt", "-sibling", "x.txt", "no.txt", "inside", "pfx", "tree", "sizes"]:
        expect_errno(errno.ENOENT, os.stat, mp.p(ghost))
    files = assert_sane_tree(mp.p())
    assert sorted(files) == ["one.txt", "sub/two.txt"]


def test_whole_bucket_mount_shows_the_session_prefix(mounter, env, prefix, tree):
    mp = mounter.mount(env.bucket)
    top = prefix.rstrip("/")
    assert top in os.listdir(mp.p())
    assert stat.S_ISDIR(os.stat(mp.p(top)).st_mode)
    assert read(mp.p(top, "pfx", "outside.txt")) == tree["pfx/outside.txt"]

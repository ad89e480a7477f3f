"""Directories on a read-write mount (issue 8): mkdir makes a `dir/` marker object at once, rmdir of an empty
directory removes it, of a non-empty one fails with ENOTEMPTY; `rm -rf` of a small tree and `mv` of a small
directory (rename = copy + delete of each key). Checked in S3 through boto3."""

from __future__ import annotations

import errno
import os
import subprocess

from conftest import KiB, det_bytes, expect_errno, put_many
from writes import (assert_absent, assert_object, get_bytes, head, keys_under, read_uncached, rw,
                    wkey)  # noqa: F401 - rw, wkey are fixtures


def test_mkdir_and_rmdir(rw, s3, env, wkey):
    put_many(s3, env.bucket, {wkey + "s3only/a.txt": b"a", wkey + "s3only/deep/b.txt": b"b"}, threads=2)
    m = rw()

    os.mkdir(m.p("d"))
    h = head(s3, env.bucket, m.key("d/"))  # at once: no waiting
    assert h is not None, "mkdir returned but there is no marker object d/ in S3"
    assert h["ContentLength"] == 0
    os.mkdir(m.p("d", "e"))
    assert head(s3, env.bucket, m.key("d/e/")) is not None, "mkdir d/e returned but there is no marker d/e/"
    assert sorted(os.listdir(m.path)) == ["d", "s3only"]
    assert os.listdir(m.p("d")) == ["e"]
    expect_errno(errno.EEXIST, os.mkdir, m.p("d"))

    expect_errno(errno.ENOTEMPTY, os.rmdir, m.p("d"))  # holds e
    expect_errno(errno.ENOTEMPTY, os.rmdir, m.p("s3only"))  # objects in S3 under it
    expect_errno(errno.ENOTEMPTY, os.rmdir, m.p("s3only", "deep"))
    os.rmdir(m.p("d", "e"))
    assert os.listdir(m.p("d")) == []
    os.rmdir(m.p("d"))
    assert os.listdir(m.path) == ["s3only"]
    expect_errno(errno.ENOENT, os.stat, m.p("d"))

    # non-empty because of a file written on this mount, open and then closed (its upload may be pending)
    os.mkdir(m.p("f"))
    fd = os.open(m.p("f", "x.bin"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        os.write(fd, b"some bytes")
        expect_errno(errno.ENOTEMPTY, os.rmdir, m.p("f"))
    finally:
        os.close(fd)
    expect_errno(errno.ENOTEMPTY, os.rmdir, m.p("f"))

    m.unmount_drained()
    assert_absent(s3, env.bucket, m.key("d/"), "marker of a removed directory")
    assert_absent(s3, env.bucket, m.key("d/e/"), "marker of a removed directory")
    assert set(keys_under(s3, env.bucket, m.key_prefix)) == {
        m.key("s3only/a.txt"), m.key("s3only/deep/b.txt"), m.key("f/"), m.key("f/x.bin")}
    assert_object(s3, env.bucket, m.key("f/x.bin"), b"some bytes")


def test_rm_rf_of_a_small_tree(rw, s3, env, wkey):
    tree = {f"tree/sub{i}/f{j}.bin": det_bytes(f"rmrf/{i}/{j}", 1 * KiB + i * j) for i in range(3) for j in range(6)}
    tree |= {"tree/a.txt": b"a\n", "tree/sub1/deep/deeper/x.txt": b"x\n", "tree/empty/": b"", "tree/marked/": b"",
             "tree/marked/m.txt": b"m\n", "keep.txt": b"outside the tree\n"}
    put_many(s3, env.bucket, {wkey + k: v for k, v in tree.items()}, threads=16)
    m = rw()
    with open(m.p("tree", "written-here.bin"), "wb") as f:  # closed; its upload may be pending
        f.write(det_bytes("rmrf/here", 2 * KiB))
    os.mkdir(m.p("tree", "made-here"))

    r = subprocess.run(["rm", "-rf", m.p("tree")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"rm -rf exited {r.returncode}: {r.stderr.strip()}"
    assert os.listdir(m.path) == ["keep.txt"]

    m.unmount_drained()
    assert keys_under(s3, env.bucket, m.key("tree/")) == {}, "keys left under tree/ after rm -rf"
    assert set(keys_under(s3, env.bucket, m.key_prefix)) == {m.key("keep.txt")}
    assert get_bytes(s3, env.bucket, m.key("keep.txt")) == b"outside the tree\n"


def test_mv_of_a_small_directory(rw, s3, env, wkey):
    src = {f"src/d{i}/f{j}.bin": det_bytes(f"mv/{i}/{j}", 100 + 37 * i + j) for i in range(4) for j in range(10)}
    src |= {"src/": b"", "src/top.txt": b"top\n", "src/empty/": b"", "src/d1/deep/x.txt": b"deep\n"}
    put_many(s3, env.bucket, {wkey + k: v for k, v in src.items()}, threads=16)
    m = rw()
    here = det_bytes("mv/here", 3 * KiB)
    with open(m.p("src", "written-here.bin"), "wb") as f:  # closed; its upload may be pending
        f.write(here)
    want = {k.replace("src/", "dst/", 1): v for k, v in src.items()} | {"dst/written-here.bin": here}

    r = subprocess.run(["mv", m.p("src"), m.p("dst")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"mv exited {r.returncode}: {r.stderr.strip()}"
    assert os.listdir(m.path) == ["dst"]
    seen = set()
    for root, dirs, files in os.walk(m.p("dst")):
        rel = os.path.relpath(root, m.path)
        for d in dirs:
            seen.add(f"{rel}/{d}/")
        for f in files:
            seen.add(f"{rel}/{f}")
            assert read_uncached(os.path.join(root, f)) == want[f"{rel}/{f}"], f"{rel}/{f} after mv"
    want_paths = {k for k in want if k != "dst/"}
    assert seen == want_paths | {"dst/d0/", "dst/d1/", "dst/d2/", "dst/d3/", "dst/d1/deep/"}

    m.unmount_drained()
    assert keys_under(s3, env.bucket, m.key("src")) == {}, "keys left under src after mv"
    assert set(keys_under(s3, env.bucket, m.key_prefix)) == {m.key(k) for k in want}
    for k, v in want.items():
        assert get_bytes(s3, env.bucket, m.key(k)) == v, f"{k}: bytes differ after mv"

"""Renames and unlinks that race a file's upload: close() starts the upload in the background (writeback), so a
`write tmp; close; rename tmp final` or `close; unlink` right after meets the PUT in flight. Whatever the timing,
S3 must end with exactly the final names, byte for byte, and nothing under the old ones (the soak, bench/soak.py,
found tmp names left behind: a PUT that landed after the rename had decided there was nothing to delete). A stat or
read right after close meets the same upload: it must see the written size and bytes whether the file is still
staged, is being uploaded, or is already in S3 (a stat that held the inode while the staged copy went answered
with the size the file had when created, 0, and the read after it came back empty)."""

from __future__ import annotations

import hashlib
import os
import random

from conftest import list_keys


def test_rename_and_unlink_right_after_close_leave_no_old_keys(mounter, s3, env, prefix):
    m = mounter.mount(f"{env.bucket}:{prefix}races")
    rnd = random.Random(13)
    kept: dict[str, str] = {}
    for n in range(120):
        data = rnd.randbytes(rnd.randint(1, 256 * 1024))
        tmp = m.p(f"tmp-{n:03d}")
        with open(tmp, "wb") as f:
            f.write(data)
        if n % 3 == 2:
            os.unlink(tmp)
        else:
            os.rename(tmp, m.p(f"final-{n:03d}"))
            kept[f"final-{n:03d}"] = hashlib.sha256(data).hexdigest()
    m.unmount()  # drains the uploads
    assert m.problems == []
    listed = {k[len(prefix) + len("races/"):] for k in list_keys(s3, env.bucket, f"{prefix}races/")}
    assert sorted(listed - set(kept)) == [], "keys left under old or unlinked names"
    assert sorted(set(kept) - listed) == [], "renamed files missing in S3"
    for name, digest in kept.items():
        body = s3.get_object(Bucket=env.bucket, Key=f"{prefix}races/{name}")["Body"].read()
        assert hashlib.sha256(body).hexdigest() == digest, name


def test_a_new_file_stat_and_read_right_after_its_close_have_its_bytes(mounter, env, prefix):
    m = mounter.mount(f"{env.bucket}:{prefix}races-rac")
    for i in range(200):
        data = random.Random(i).randbytes(16 + i)
        with open(m.p(f"rac-{i}.bin"), "wb") as f:
            f.write(data)
        assert os.stat(m.p(f"rac-{i}.bin")).st_size == len(data), f"rac-{i}.bin: stat right after close"
        with open(m.p(f"rac-{i}.bin"), "rb") as f:
            assert f.read() == data, f"rac-{i}.bin read back wrong right after its close"
    m.unmount()
    assert m.problems == []

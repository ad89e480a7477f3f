"""Renames and unlinks that race a file's upload: close() starts the upload in the background (writeback), so a
`write tmp; close; rename tmp final` or `close; unlink` right after meets the PUT in flight. Whatever the timing,
S3 must end with exactly the final names, byte for byte, and nothing under the old ones (the soak, bench/soak.py,
found tmp names left behind: a PUT that landed after the rename had decided there was nothing to delete)."""

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

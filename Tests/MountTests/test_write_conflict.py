"""Conflicts (issue 8): when the object changed in S3 while a local write was pending (another client overwrote it,
or created it), the local version goes to `NAME.s3mount-conflict-<UTC YYYYMMDDTHHMMSSZ>` beside it, a warning is
logged, and the other client's object is left as it is."""

from __future__ import annotations

import datetime
import os
import re

import pytest

from conftest import KiB, MiB, det_bytes
from writes import Model, assert_object, keys_under, multipart_uploads, pwrite_all, rw, wkey  # noqa: F401

CONFLICT = re.compile(r"(?P<name>.+)\.s3mount-conflict-(?P<ts>\d{8}T\d{6}Z)")


@pytest.mark.parametrize("case", ["overwritten", "created"])
@pytest.mark.parametrize("size", [100 * KiB, 20 * MiB + 3], ids=["small", "multipart"])
def test_conflict_goes_beside_the_other_clients_object(rw, s3, env, wkey, case, size):
    key = wkey + "sub/shared.bin"
    if case == "overwritten":
        s3.put_object(Bucket=env.bucket, Key=key, Body=det_bytes("conflict/v0", size))
        model = Model(det_bytes("conflict/v0", size))
    else:
        s3.put_object(Bucket=env.bucket, Key=wkey + "sub/other.txt", Body=b"the directory exists")
        model = Model()
    m = rw()
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    flags = os.O_RDWR if case == "overwritten" else os.O_RDWR | os.O_CREAT | os.O_EXCL
    fd = os.open(m.p("sub", "shared.bin"), flags, 0o644)
    try:
        local = det_bytes("conflict/local", size // 2 + 1)
        pwrite_all(fd, local, 1000)
        model.pwrite(1000, local)
        # another client writes the same key while the local write is pending (the file is still open)
        theirs = det_bytes("conflict/theirs", size // 3 + 5)
        s3.put_object(Bucket=env.bucket, Key=key, Body=theirs)
    finally:
        os.close(fd)
    m.unmount_drained()
    end = datetime.datetime.now(datetime.timezone.utc)

    keys = keys_under(s3, env.bucket, wkey + "sub/")
    conflicts = [k for k in keys if (c := CONFLICT.fullmatch(k)) and c["name"] == key]
    assert len(conflicts) == 1, f"want one conflict copy beside {key}, the keys are: {sorted(keys)}"
    ts = datetime.datetime.strptime(CONFLICT.fullmatch(conflicts[0])["ts"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc)
    assert start - datetime.timedelta(seconds=2) <= ts <= end + datetime.timedelta(seconds=2), (
        f"conflict timestamp {ts.isoformat()} is not within the test's run ({start.isoformat()} .. "
        f"{end.isoformat()}, UTC)")
    assert_object(s3, env.bucket, key, theirs, "the other client's object (must be left as it is)")
    assert_object(s3, env.bucket, conflicts[0], model.bytes(), "the local version, in the conflict copy")
    extra = set(keys) - {key, conflicts[0], wkey + "sub/other.txt"}
    assert not extra, f"unexpected keys: {sorted(extra)}"
    assert multipart_uploads(s3, env.bucket, wkey) == []
    warnings = [line for line in m.log_text().splitlines()
                if " warning " in line and "conflict" in line.lower()]
    assert warnings, "no warning about the conflict in the log" + m.log_tail()

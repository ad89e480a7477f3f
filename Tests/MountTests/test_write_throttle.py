"""--upload-bandwidth (issue 8): with 100M (100 MiB/s), the measured upload rate is within ±10 % of it.

Timing-based, so kept in its own file. The rate is measured from S3's side: a sampler lists the parts of the
multipart upload every 0.5 s while the file is written; the rate is the bytes that reached S3 between the first
sample that saw a part and the return of fsync(), over that time (at least 20 s at the nominal rate). The figure
is printed (`pytest -s`) and is in the assertion message.
"""

from __future__ import annotations

import os
import threading
import time

from conftest import MiB
from writes import (assert_object_sha, uploaded_part_bytes, rw, wkey,
                    write_stream_fd)  # noqa: F401 - rw, wkey are fixtures

RATE = 100 * MiB  # --upload-bandwidth 100M: binary units
SIZE = 2560 * MiB  # 25.6 s at RATE
TOLERANCE = 0.10
MIN_WINDOW = 20.0


def test_upload_bandwidth_100m_is_held_within_ten_percent(rw, s3, env):
    m = rw("--upload-bandwidth", "100M")
    key = m.key("throttled.bin")
    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def sampler() -> None:
        try:
            while not stop.is_set():
                samples.append((time.monotonic(), uploaded_part_bytes(s3, env.bucket, key)))
                stop.wait(0.5)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    t0 = time.monotonic()
    fd = os.open(m.p("throttled.bin"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        sha = write_stream_fd(fd, "throttle", SIZE)
        t_written = time.monotonic()
        os.fsync(fd)
        t_synced = time.monotonic()
    finally:
        os.close(fd)
        stop.set()
        thread.join(timeout=30)
    assert not errors, f"the ListParts sampler failed: {errors[0]!r}"

    first = next(((t, b) for t, b in samples if b > 0), None)
    if first is None:  # no part was ever seen: measure from the close of writing (the upload cannot start later)
        t_start, b_start, how = t_written, 0, "from the end of writing (no multipart part was seen)"
    else:
        t_start, b_start, how = first[0], first[1], "from the first part seen in S3"
    window = t_synced - t_start
    rate = (SIZE - b_start) / window
    overall = SIZE / (t_synced - t0)
    figures = (f"upload rate {rate / MiB:.1f} MiB/s over {window:.1f}s ({how}); want {RATE / MiB:.0f} MiB/s "
               f"± {TOLERANCE:.0%}. Writing took {t_written - t0:.1f}s, fsync {t_synced - t_written:.1f}s, "
               f"open-to-fsync {overall / MiB:.1f} MiB/s, {len(samples)} samples")
    print("write-throttle: " + figures)
    assert abs(rate - RATE) <= TOLERANCE * RATE, figures
    assert window >= MIN_WINDOW, "measured over less than 20 s: " + figures
    assert_object_sha(s3, env.bucket, key, SIZE, sha)

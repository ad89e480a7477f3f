"""--upload-bandwidth (issue 8): with 100M (100 MiB/s), the measured upload rate is within ±10 % of it.

Timing-based, so kept in its own file. What is measured is the upload, not the writer: on a small machine the
writer (and the FUSE write path) cannot always feed 100 MiB/s while the same cores also upload it, and a stream
that is starved by its writer says nothing about the limit. So the 2.5 GiB file is written with its last byte first
(a new file that is not written strictly sequentially is not streamed while it is written) and the rate is taken
from S3's side once the writing is done: a sampler lists the parts of the multipart upload every 0.5 s; the rate
is the bytes that reached S3 between the first sample after the writing ended and the return of fsync(), over that
time (at least 20 s). The figures are printed (`pytest -s`) and are in the assertion message.
"""

from __future__ import annotations

import os
import threading
import time

from conftest import MiB
from writes import (assert_object_sha, rw, uploaded_part_bytes, wkey,
                    write_stream_fd)  # noqa: F401 - rw, wkey are fixtures

RATE = 100 * MiB  # --upload-bandwidth 100M: binary units
SIZE = 2560 * MiB  # 25.6 s at RATE
TOLERANCE = 0.10
MIN_WINDOW = 20.0


def test_upload_bandwidth_100m_is_held_within_ten_percent(rw, s3, env):
    # --drain-timeout: after a failure, teardown does not wait for the rest of a 2.5 GiB upload
    m = rw("--upload-bandwidth", "100M", "--drain-timeout", "5")
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
        # the last byte first (the sequential pass below overwrites it with the stream's own)
        os.pwrite(fd, b"\0", SIZE - 1)
        sha = write_stream_fd(fd, "throttle", SIZE)
        t_written = time.monotonic()
        os.fsync(fd)
        t_synced = time.monotonic()
    finally:
        os.close(fd)
        stop.set()
        thread.join(timeout=30)
    assert not errors, f"the ListParts sampler failed: {errors[0]!r}"

    after = [(t, b) for t, b in samples if t >= t_written]
    t_start, b_start = after[0] if after else (t_written, 0)
    window = t_synced - t_start
    rate = (SIZE - b_start) / window
    uploaded_while_writing = max((b for t, b in samples if t < t_written), default=0)
    figures = (f"upload rate {rate / MiB:.1f} MiB/s over {window:.1f}s ({(SIZE - b_start) / MiB:.0f} MiB after the "
               f"writing ended); want {RATE / MiB:.0f} MiB/s ± {TOLERANCE:.0%}. Writing 2560 MiB took "
               f"{t_written - t0:.1f}s ({uploaded_while_writing / MiB:.0f} MiB uploaded meanwhile), fsync "
               f"{t_synced - t_written:.1f}s, {len(samples)} samples")
    print("write-throttle: " + figures)
    assert window >= MIN_WINDOW, "measured over less than 20 s: " + figures
    assert abs(rate - RATE) <= TOLERANCE * RATE, figures
    assert_object_sha(s3, env.bucket, key, SIZE, sha)

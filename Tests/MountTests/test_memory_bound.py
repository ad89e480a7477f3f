"""One memory bound over the whole read pipeline: 1,000 files open at once, all being read, stay within
--memory-limit + 64 MiB of resident memory, and every byte read is the object's."""

from __future__ import annotations

import concurrent.futures
import os

from conftest import KiB, MiB, det_bytes, live_daemons

LIMIT_MIB = 256
HANDLES = 1000
SIZE = 256 * MiB
STEP = SIZE // HANDLES  # each handle starts at its own offset
READ = 64 * KiB
READS_PER_HANDLE = 16  # 1 MiB each, sequential, so every handle builds a read-ahead window


def vm_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def test_a_thousand_open_files_stay_within_the_memory_limit(mounter, s3, env, prefix):
    data = b"".join(det_bytes(f"memory-bound/{i}", 64 * MiB) for i in range(SIZE // (64 * MiB)))
    s3.put_object(Bucket=env.bucket, Key=prefix + "bound/big.bin", Body=data)
    m = mounter.mount(f"{env.bucket}:{prefix}bound", "--memory-limit", f"{LIMIT_MIB}M", "--max-prefetch", "64M")
    (pid,) = live_daemons(m.path)
    fds = [os.open(m.p("big.bin"), os.O_RDONLY) for _ in range(HANDLES)]
    try:
        for fd in fds:  # no kernel read-ahead: every handle's window is s3mount's own
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)

        def read_round(index: int, round_: int) -> None:
            offset = (index * STEP + round_ * READ) % (SIZE - READ)
            got = os.pread(fds[index], READ, offset)
            assert got == data[offset: offset + READ], f"handle {index}: wrong bytes at {offset}"

        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            for round_ in range(READS_PER_HANDLE):  # every handle is mid-file, with read-ahead, at the same time
                list(pool.map(lambda i: read_round(i, round_), range(HANDLES)))
        peak_mib = vm_kib(pid, "VmHWM") / 1024
        print(f"peak RSS {peak_mib:.0f} MiB")
        assert peak_mib <= LIMIT_MIB + 64, f"peak RSS {peak_mib:.0f} MiB over --memory-limit {LIMIT_MIB} MiB + 64 MiB"
    finally:
        for fd in fds:
            os.close(fd)

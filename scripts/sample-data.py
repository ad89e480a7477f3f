#!/usr/bin/env python3
"""Upload a small, deterministic sample dataset to S3 and print its sha256 manifest.

usage: scripts/sample-data.py [--bucket B] [--prefix demo/] [--manifest FILE]

Connection settings come from the environment (the testbed's env file sets them):
AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, S3_BUCKET.

The manifest is in `sha256sum` format with paths relative to the prefix, so that
`cd MOUNTPOINT && sha256sum -c MANIFEST` checks a mount of BUCKET:PREFIX.
Objects under the prefix that are not part of the dataset are deleted, so the listing is always the same.
"""
import argparse
import hashlib
import os
import sys

import boto3
from botocore.config import Config


def binary_blob(size: int, seed: bytes) -> bytes:
    """Deterministic pseudo-random bytes (SHA-256 in counter mode)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha512(seed + counter.to_bytes(8, "little")).digest()
        counter += 1
    return bytes(out[:size])


def dataset() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    files["README.txt"] = (
        b"This is the s3mount demo dataset.\n"
        b"Every file here is an S3 object under the prefix demo/ of the bucket;\n"
        b"s3mount shows the prefix as a directory tree.\n"
    )
    files["hello.txt"] = b"Hello from S3!\n"
    files["notes/todo.txt"] = b"- mount a bucket\n- read a file\n- unmount\n"
    files["notes/2024/january.md"] = b"# January\n\nNothing happened.\n"
    files["notes/2024/february.md"] = b"# February\n\n" + b"A longer line of text. " * 200 + b"\n"
    files["data/numbers.csv"] = b"n,square,cube\n" + b"".join(
        f"{n},{n * n},{n * n * n}\n".encode() for n in range(1, 10001)
    )
    files["data/random.bin"] = binary_blob(5 * 1024 * 1024 + 12345, b"s3mount-demo")
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bucket", default=os.environ.get("S3_BUCKET", "test"))
    ap.add_argument("--prefix", default="demo/")
    ap.add_argument("--manifest", help="also write the manifest to this file")
    args = ap.parse_args()
    prefix = args.prefix.strip("/") + "/" if args.prefix.strip("/") else ""

    s3 = boto3.client(
        "s3",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
    )
    files = dataset()

    # delete objects under the prefix that are not in the dataset
    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=args.bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"][len(prefix):] not in files:
                stale.append({"Key": obj["Key"]})
    for i in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=args.bucket, Delete={"Objects": stale[i:i + 1000], "Quiet": True})

    lines = []
    total = 0
    for rel in sorted(files):
        body = files[rel]
        s3.put_object(Bucket=args.bucket, Key=prefix + rel, Body=body)
        lines.append(f"{hashlib.sha256(body).hexdigest()}  {rel}")
        total += len(body)
    manifest = "\n".join(lines) + "\n"
    if args.manifest:
        with open(args.manifest, "w") as f:
            f.write(manifest)
    print(f"uploaded {len(files)} objects ({total} bytes) to s3://{args.bucket}/{prefix}", file=sys.stderr)
    sys.stdout.write(manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Fuzzes the parsers of server input (Sources/ParserFuzzing) with libFuzzer, one target after the other.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     SECONDS per target (default 600); all targets unless named
# Builds s3http-fuzz with -sanitize=fuzzer into .build-fuzz (under the shared build lock), then runs each target
# under nice from the committed seeds (Fuzz/corpus/<target>) plus what earlier runs found (Fuzz/work/<target>/corpus,
# git-ignored, where libFuzzer keeps the inputs that reach new code). A broken invariant or a trap stops that target
# and leaves Fuzz/work/<target>/crash-*; the summary lists every crash and how to replay it. Exit 1 if any.
# `make fuzz-smoke` is `scripts/fuzz.sh 20`: the bounded run of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="$PATH:/opt/swift/usr/bin"

seconds=${1:-600}
shift || true
all_targets=(list-objects error-document content-range numbers timestamps header-lines sigv4)
targets=("${@:-${all_targets[@]}}")
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2; }
for target in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $target "* ]] || { echo "fuzz: no target $target (${all_targets[*]})" >&2; exit 2; }
done
lock=${S3MOUNT_BUILD_LOCK:-/tmp/s3mount-bench.lock}
binary=.build-fuzz/release/s3http-fuzz

started=$(date +%s)
mkdir -p Fuzz/work
stamp=Fuzz/work/.run-started
touch "$stamp"
flock "$lock" swift build -c release --scratch-path .build-fuzz --product s3http-fuzz \
    -Xswiftc -sanitize=fuzzer -Xcc -DLIBFUZZER
echo "fuzz: built $binary in $(( $(date +%s) - started )) s"

status=0
for target in "${targets[@]}"; do
    work=Fuzz/work/$target
    mkdir -p "$work/corpus"
    options=(-timeout=10 -print_final_stats=1 -artifact_prefix="$work/")
    [ -f "Fuzz/dict/$target.dict" ] && options+=(-dict="Fuzz/dict/$target.dict")
    echo "fuzz: $target for $seconds s"
    # Rounds of at most 30 s, each a fresh process: FoundationXML leaks about 1 KB per malformed document it parses,
    # which would reach libFuzzer's 2 GB limit within a minute or two of the XML targets.
    left=$seconds runs=0
    while [ "$left" -gt 0 ]; do
        round=$(( left < 30 ? left : 30 ))
        # The first corpus directory receives new inputs; the committed seeds are only read.
        if ! S3HTTP_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no nice "$binary" "${options[@]}" \
            -max_total_time="$round" "$work/corpus" "Fuzz/corpus/$target" >"$work/last-run.log" 2>&1; then
            status=1
            grep -E 'invariant broken|Fatal error|ERROR: libFuzzer' "$work/last-run.log" | sed 's/^/    /' || true
            break
        fi
        runs=$(( runs + $(sed -n 's/^stat::number_of_executed_units: *//p' "$work/last-run.log") ))
        left=$(( left - round ))
    done
    echo "    $runs inputs; corpus $(find "$work/corpus" -type f | wc -l) found + $(find "Fuzz/corpus/$target" -type f | wc -l) seeds"
done

crashes=$(find Fuzz/work -newer "$stamp" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
if [ -n "$crashes" ]; then
    echo "fuzz: inputs of this run that break a parser (replay: S3HTTP_FUZZ_TARGET=<target> $binary <file>):"
    echo "$crashes" | sed 's/^/    /'
    status=1
else
    echo "fuzz: no crash in ${targets[*]}"
fi
exit $status

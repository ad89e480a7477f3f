// s3http-fuzz: the parsers of server input under libFuzzer, or a replayer of saved inputs.
//
// scripts/fuzz.sh builds this product with -sanitize=fuzzer and -DLIBFUZZER: libFuzzer then brings its own main,
// which calls LLVMFuzzerTestOneInput (ParserFuzzing) with the target named by S3HTTP_FUZZ_TARGET. The entry point is C
// because SwiftPM renames a Swift executable's main, which would clash with libFuzzer's. In a normal build this main
// replays files instead: `s3http-fuzz <target> <file>...` checks each input and reports the first broken invariant.

#ifndef LIBFUZZER
int s3http_fuzz_replay(int argc, char **argv);

int main(int argc, char **argv) { return s3http_fuzz_replay(argc, argv); }
#endif

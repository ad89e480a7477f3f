// The commit a binary was built from, for `s3mount --version`. SwiftPM has no build-time strings, so the build
// passes it as a bare macro: `swift build -Xcc -DS3MOUNT_COMMIT=abc1234` (make build and make deb do; a hash, with
// an optional -dirty suffix, is a valid token sequence, so no shell quoting is involved). It is turned into a
// string here; a build without it (swift build, swift test) reports "unknown".
#include "CSystem.h"

#define S3M_STRING(tokens) #tokens
#define S3M_EXPANDED_STRING(macro) S3M_STRING(macro)

#ifdef S3MOUNT_COMMIT
static const char build_commit[] = S3M_EXPANDED_STRING(S3MOUNT_COMMIT);
#else
static const char build_commit[] = "unknown";
#endif

const char *s3m_build_commit(void) {
    return build_commit;
}

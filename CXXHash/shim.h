// CXXHash: libxxhash (Debian's libxxhash-dev), the checksum of the block cache tier's files. XXH3 runs at memory
// speed, so checking every block read from the cache costs the reader almost nothing.
#ifndef S3MOUNT_CXXHASH_SHIM_H
#define S3MOUNT_CXXHASH_SHIM_H
#include <xxhash.h>
#endif

// CSystem: Linux calls the Swift Glibc module does not export (they need _GNU_SOURCE). Prefixed s3m_.
#ifndef S3MOUNT_CSYSTEM_H
#define S3MOUNT_CSYSTEM_H

#include <sys/types.h>

// sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE): starts write-back of a range without waiting.
int s3m_start_writeback(int fd, off_t offset, off_t length);

// O_DIRECT, whose value differs between architectures.
int s3m_o_direct(void);

#endif

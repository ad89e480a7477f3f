#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include "CSystem.h"

int s3m_start_writeback(int fd, off_t offset, off_t length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}

int s3m_o_direct(void) {
    return O_DIRECT;
}

int s3m_fix_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

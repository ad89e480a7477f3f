#define _GNU_SOURCE
#include <fcntl.h>
#include "CSystem.h"

int s3m_start_writeback(int fd, off_t offset, off_t length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}

int s3m_o_direct(void) {
    return O_DIRECT;
}

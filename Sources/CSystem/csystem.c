#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include "CSystem.h"

int s3m_start_writeback(int fd, off_t offset, off_t length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}

int s3m_lock_byte(int fd, off_t offset, int exclusive) {
    struct flock lock = {.l_type = exclusive ? F_WRLCK : F_UNLCK, .l_whence = SEEK_SET, .l_start = offset, .l_len = 1};
    if (fcntl(fd, F_OFD_SETLK, &lock) == 0) return 0;
    return errno == EACCES ? -EAGAIN : -errno;
}

long long s3m_shared_load(const long long *counter) {
    return __atomic_load_n(counter, __ATOMIC_SEQ_CST);
}

int s3m_shared_compare_exchange(long long *counter, long long expected, long long desired) {
    return __atomic_compare_exchange_n(counter, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

int s3m_o_direct(void) {
    return O_DIRECT;
}

int s3m_fix_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

int s3m_keep_freed_heap_top(int bytes) {
    return mallopt(M_TRIM_THRESHOLD, bytes);
}

int s3m_limit_malloc_arenas(int arenas) {
    return mallopt(M_ARENA_MAX, arenas);
}

int s3m_spread_subdirectories(int directory_fd) {
    int flags = 0;
    if (ioctl(directory_fd, FS_IOC_GETFLAGS, &flags) != 0) return -errno;
    if (flags & FS_TOPDIR_FL) return 0;
    flags |= FS_TOPDIR_FL;
    return ioctl(directory_fd, FS_IOC_SETFLAGS, &flags) == 0 ? 0 : -errno;
}

// Parallel lookups and readdirs in one directory, despite libfuse 3.14.
//
// The kernel serialises lookups (and readdirs) in a directory unless the INIT reply carries FUSE_PARALLEL_DIROPS.
// libfuse before 3.16 never put that flag in the reply, whatever the filesystem asked for (libfuse pull request
// #861), and Debian 12 ships 3.14: every lookup in a directory then waited for the one before it, so eight loader
// workers opening eight shards of one directory started one after another, a LIST apart. libfuse writes the reply
// with writev(2); this writev is the one the process links, and adds the flag to that one reply, on the /dev/fuse
// descriptor armed by s3m_fuse_arm_parallel_dirops, once. Every other call is passed to the kernel as it is.
#define _GNU_SOURCE
#include "CSystem.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

// The first fields of the kernel's fuse_out_header and fuse_init_out (include/uapi/linux/fuse.h).
struct s3m_fuse_out_header { uint32_t len; int32_t error; uint64_t unique; };
struct s3m_fuse_init_out_start { uint32_t major; uint32_t minor; uint32_t max_readahead; uint32_t flags; };
#define S3M_FUSE_PARALLEL_DIROPS (1u << 18)

static atomic_int armed_fd = -1;

void s3m_fuse_arm_parallel_dirops(int fuse_fd) {
    atomic_store(&armed_fd, fuse_fd);
}

static int is_init_reply(int fd, const struct iovec *iov, int iovcnt) {
    if (fd < 0 || fd != atomic_load(&armed_fd) || iovcnt < 2) return 0;
    if (iov[0].iov_len != sizeof(struct s3m_fuse_out_header)) return 0;
    if (iov[1].iov_len < sizeof(struct s3m_fuse_init_out_start) || iov[1].iov_len > 256) return 0;
    const struct s3m_fuse_out_header *header = iov[0].iov_base;
    const struct s3m_fuse_init_out_start *init = iov[1].iov_base;
    return header->error == 0 && init->major == 7;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    if (!is_init_reply(fd, iov, iovcnt)) return syscall(SYS_writev, fd, iov, iovcnt);
    int expected = fd;
    if (!atomic_compare_exchange_strong(&armed_fd, &expected, -1)) return syscall(SYS_writev, fd, iov, iovcnt);
    unsigned char patched[256];
    memcpy(patched, iov[1].iov_base, iov[1].iov_len);
    ((struct s3m_fuse_init_out_start *)patched)->flags |= S3M_FUSE_PARALLEL_DIROPS;
    struct iovec copy[iovcnt];
    memcpy(copy, iov, sizeof(struct iovec) * (size_t)iovcnt);
    copy[1].iov_base = patched;
    return syscall(SYS_writev, fd, copy, iovcnt);
}

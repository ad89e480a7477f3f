// CSystem: Linux calls the Swift Glibc module does not export (they need _GNU_SOURCE). Prefixed s3m_.
#ifndef S3MOUNT_CSYSTEM_H
#define S3MOUNT_CSYSTEM_H

#include <sys/types.h>

// sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE): starts write-back of a range without waiting.
int s3m_start_writeback(int fd, off_t offset, off_t length);

// An open-file-description lock (F_OFD_SETLK) on the one byte at `offset`, without waiting: exclusive when
// `exclusive`, released otherwise. 0 on success, -errno on failure (-EAGAIN: another description holds it).
int s3m_lock_byte(int fd, off_t offset, int exclusive);

// Makes the next FUSE INIT reply written to `fuse_fd` carry FUSE_PARALLEL_DIROPS, which libfuse before 3.16 leaves
// out (fuse_init_flags.c). Call between mounting and serving; the reply is patched once.
void s3m_fuse_arm_parallel_dirops(int fuse_fd);

// Marks a directory as the top of a tree for ext2/3/4's inode allocator (FS_TOPDIR_FL, chattr +T): the directories
// made in it afterwards are spread over the filesystem's block groups instead of packed into its own, and the files
// made in them with them. 0 on success, -errno (-ENOTTY, -EOPNOTSUPP on other filesystems) on failure.
int s3m_spread_subdirectories(int directory_fd);

// A counter several processes change at once, in a MAP_SHARED mapping of a file: sequentially consistent atomics.
long long s3m_shared_load(const long long *counter);
// Replaces *counter with `desired` if it still holds `expected`; 1 if it did, 0 if another writer came first.
int s3m_shared_compare_exchange(long long *counter, long long expected, long long desired);

// O_DIRECT, whose value differs between architectures.
int s3m_o_direct(void);

// Fixes malloc's mmap threshold at `bytes` (glibc's mallopt M_MMAP_THRESHOLD; it otherwise moves up as large
// buffers are freed). Returns 1 on success.
int s3m_fix_mmap_threshold(int bytes);

// Lets up to `bytes` of free memory stay at the top of each malloc heap instead of going back to the kernel
// (glibc's mallopt M_TRIM_THRESHOLD, 128 KiB by default). Returns 1 on success.
int s3m_keep_freed_heap_top(int bytes);

// Caps glibc's malloc arenas at `arenas` (mallopt M_ARENA_MAX; by default up to 8 per core, each thread that
// meets contention taking one, and each holding its own freed memory in RSS). Returns 1 on success.
int s3m_limit_malloc_arenas(int arenas);

// The commit the binary was built from ("unknown" unless the build defined S3MOUNT_COMMIT; build_info.c).
const char *s3m_build_commit(void);

// Fatal signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP) write one "critical s3mount crashed: …"
// line to fd (if >= 0) and to syslog (if use_syslog) before the previous handler runs (crash_log.c).
void s3m_log_crashes(int fd, int use_syslog);

// Sockets (socket_shim.c). Each returns a file descriptor, or 0, on success and -errno on failure.
// A TCP socket listening on host:port (getaddrinfo's first address that binds), close-on-exec.
int s3m_listen_tcp(const char *host, unsigned short port);
// A unix socket listening at path (a file already there is replaced); -ENAMETOOLONG if it does not fit.
int s3m_listen_unix(const char *path);
// A connection to the unix socket at path, with timeout_ms on its reads and writes.
int s3m_connect_unix(const char *path, int timeout_ms);
// The next connection on listener, close-on-exec, with timeout_ms on its reads and writes.
int s3m_accept(int listener, int timeout_ms);
int s3m_set_timeout(int fd, int timeout_ms);
// The user id of the process at the other end of a unix socket (SO_PEERCRED).
int s3m_peer_uid(int fd, unsigned int *uid);
// sd_notify(3) without libsystemd: sends `message` ("READY=1\nSTATUS=…") as one datagram to $NOTIFY_SOCKET (a path,
// or "@name" in the abstract namespace). 0 when NOTIFY_SOCKET is unset, 1 when sent, -errno on failure.
int s3m_sd_notify(const char *message);
// Sends every byte (MSG_NOSIGNAL: a peer gone away is an error, not a SIGPIPE).
int s3m_send_all(int fd, const void *bytes, size_t length);

#endif

// CFuse: the libfuse3 low-level API, as Swift sees it.
// This header is the only place FUSE_USE_VERSION is defined: every Swift file that talks to libfuse imports this
// module and so agrees on the layouts of fuse_lowlevel_ops, fuse_conn_info and fuse_file_info.
#ifndef S3MOUNT_CFUSE_SHIM_H
#define S3MOUNT_CFUSE_SHIM_H
#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

// fuse_session_loop_mt is a function-like macro that picks a versioned symbol; Swift cannot call macros.
static inline int s3m_fuse_session_loop_mt(struct fuse_session *se, struct fuse_loop_config *config) {
    return fuse_session_loop_mt(se, config);
}

// FUSE_ARGS_INIT is a macro too.
static inline struct fuse_args s3m_fuse_args_init(int argc, char **argv) {
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    return args;
}
// FUSE_BUFVEC_INIT is a macro too: `size` bytes at `data`, stored into the kernel's page cache of `ino` at `offset`.
static inline int s3m_fuse_notify_store(
    struct fuse_session *se, fuse_ino_t ino, off_t offset, const void *data, size_t size) {
    struct fuse_bufvec bufv = FUSE_BUFVEC_INIT(size);
    bufv.buf[0].mem = (void *)data;
    return fuse_lowlevel_notify_store(se, ino, offset, &bufv, 0);
}
#endif

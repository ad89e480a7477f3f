// CFuse: the libfuse3 low-level API, as Swift sees it.
// This header is the only place FUSE_USE_VERSION is defined: every Swift file that talks to libfuse imports this
// module and so agrees on the layouts of fuse_lowlevel_ops, fuse_conn_info and fuse_file_info.
#ifndef S3MOUNT_CFUSE_SHIM_H
#define S3MOUNT_CFUSE_SHIM_H
#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
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
#endif

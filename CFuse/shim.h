// CFuse: the libfuse3 low-level API, as Swift sees it.
// This header is the only place FUSE_USE_VERSION is defined: every Swift file that talks to libfuse
// imports this module and so agrees on the struct layouts of fuse_lowlevel_ops and fuse_conn_info.
#ifndef S3MOUNT_CFUSE_SHIM_H
#define S3MOUNT_CFUSE_SHIM_H
#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#endif

// CShims: typed C wrappers for what Swift cannot call directly (variadic functions, function-like macros).
// Every shim is prefixed s3m_. Owned by the S3HTTP work (curl, libcrypto) and the CLI (syslog).
#ifndef S3MOUNT_CSHIMS_H
#define S3MOUNT_CSHIMS_H
#endif

// syslog(3) is variadic; Swift cannot call it. One fixed-format wrapper per use.
#ifndef S3MOUNT_SYSLOG_SHIM_H
#define S3MOUNT_SYSLOG_SHIM_H

/// syslog(priority, "%s", message): the message is never interpreted as a format string.
void s3m_syslog(int priority, const char *message);

#endif

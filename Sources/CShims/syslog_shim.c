#include <syslog.h>
#include "syslog_shim.h"

void s3m_syslog(int priority, const char *message) {
    syslog(priority, "%s", message);
}

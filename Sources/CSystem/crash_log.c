// Fatal signals leave a line in the daemon's log before the process dies: a daemon started from fstab has no
// terminal, so without it the only trace of a crash would be a mount that answers ENOTCONN. The handler uses only
// async-signal-safe calls to write its line (syslog, for a daemon logging there, is best effort); a fault then goes
// on to the handler that was there before (Swift's backtracer, or the default), a signal sent by kill to the default.
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "CSystem.h"

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
#define CRASH_SIGNALS (sizeof(crash_signals) / sizeof(crash_signals[0]))
static struct sigaction previous[CRASH_SIGNALS];
static int log_fd = -1;
static int log_to_syslog = 0;

static size_t append(char *line, size_t at, size_t size, const char *text) {
    while (*text && at + 1 < size) line[at++] = *text++;
    line[at] = 0;
    return at;
}

static size_t append_number(char *line, size_t at, size_t size, unsigned long value, unsigned base) {
    char digits[24];
    int count = 0;
    do {
        digits[count++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value && count < (int)sizeof(digits));
    while (count && at + 1 < size) line[at++] = digits[--count];
    line[at] = 0;
    return at;
}

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGTRAP: return "SIGTRAP";
    default: return "?";
    }
}

static void on_crash(int sig, siginfo_t *info, void *context) {
    (void)context;
    char line[400];
    size_t at = append(line, 0, sizeof(line), "critical s3mount crashed: signal ");
    at = append_number(line, at, sizeof(line), (unsigned long)sig, 10);
    at = append(line, at, sizeof(line), " (");
    at = append(line, at, sizeof(line), signal_name(sig));
    if (info && info->si_code == SI_USER) {
        at = append(line, at, sizeof(line), ", sent by pid ");
        at = append_number(line, at, sizeof(line), (unsigned long)info->si_pid, 10);
    } else if (info && sig != SIGABRT) {
        at = append(line, at, sizeof(line), ", address 0x");
        at = append_number(line, at, sizeof(line), (unsigned long)info->si_addr, 16);
    }
    at = append(line, at, sizeof(line),
        "); the mount is gone: unmount it (fusermount3 -u or umount -l), mount again; files closed but not yet "
        "uploaded are uploaded by the next mount with the same --cache-dir\n");
    if (log_fd >= 0) {
        ssize_t ignored = write(log_fd, line, at);
        (void)ignored;
    }
    if (log_to_syslog) syslog(LOG_CRIT, "%.*s", (int)(at - 1), line);
    if (!info || info->si_code <= 0) {
        // Sent (kill, abort's raise): nothing would repeat it, and Swift's backtracer returns from a sent signal,
        // which would leave the process running. Die of it the default way.
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    // A fault: the faulting instruction runs again on return and meets the handler that was there before (Swift's
    // backtracer prints where it happened, then the process dies).
    for (size_t i = 0; i < CRASH_SIGNALS; i++) {
        if (crash_signals[i] == sig) sigaction(sig, &previous[i], NULL);
    }
}

void s3m_log_crashes(int fd, int use_syslog) {
    log_fd = fd;
    log_to_syslog = use_syslog;
    for (size_t i = 0; i < CRASH_SIGNALS; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof(action));
        action.sa_sigaction = on_crash;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        sigaction(crash_signals[i], &action, &previous[i]);
    }
}

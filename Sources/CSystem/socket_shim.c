// Socket calls for /metrics, the control socket and `s3mount status`: Swift's Glibc module lacks SO_PEERCRED's
// struct ucred and accept4 (they need _GNU_SOURCE), and sockaddr juggling is safer written once in C. Every
// function returns a file descriptor or 0 on success, and -errno on failure.
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "CSystem.h"

int s3m_listen_tcp(const char *host, unsigned short port) {
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints = {0}, *list = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (getaddrinfo(host, service, &hints, &list) != 0) return -EADDRNOTAVAIL;
    int error = EADDRNOTAVAIL;
    for (struct addrinfo *entry = list; entry; entry = entry->ai_next) {
        int fd = socket(entry->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) { error = errno; continue; }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, entry->ai_addr, entry->ai_addrlen) == 0 && listen(fd, 16) == 0) {
            freeaddrinfo(list);
            return fd;
        }
        error = errno;
        close(fd);
    }
    freeaddrinfo(list);
    return -error;
}

static int unix_address(const char *path, struct sockaddr_un *address) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address->sun_path) return -ENAMETOOLONG;
    strcpy(address->sun_path, path);
    return 0;
}

int s3m_listen_unix(const char *path) {
    struct sockaddr_un address;
    int status = unix_address(path, &address);
    if (status < 0) return status;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 16) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

int s3m_connect_unix(const char *path, int timeout_ms) {
    struct sockaddr_un address;
    int status = unix_address(path, &address);
    if (status < 0) return status;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    s3m_set_timeout(fd, timeout_ms);
    return fd;
}

int s3m_accept(int listener, int timeout_ms) {
    int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return -errno;
    s3m_set_timeout(fd, timeout_ms);
    return fd;
}

int s3m_set_timeout(int fd, int timeout_ms) {
    struct timeval time = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, sizeof time) != 0) return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, sizeof time) != 0) return -errno;
    return 0;
}

int s3m_peer_uid(int fd, unsigned int *uid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -errno;
    *uid = credentials.uid;
    return 0;
}

int s3m_send_all(int fd, const void *bytes, size_t length) {
    size_t sent = 0;
    while (sent < length) {
        ssize_t count = send(fd, (const char *)bytes + sent, length - sent, MSG_NOSIGNAL);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) return count < 0 ? -errno : -EPIPE;
        sent += (size_t)count;
    }
    return 0;
}

int s3m_sd_notify(const char *message) {
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path) return 0;
    struct sockaddr_un address;
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    size_t length = strlen(path);
    if (length >= sizeof(address.sun_path)) return -ENAMETOOLONG;
    memcpy(address.sun_path, path, length);
    if (path[0] == '@') address.sun_path[0] = 0;  // the abstract namespace
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length);
    ssize_t sent = sendto(fd, message, strlen(message), MSG_NOSIGNAL, (struct sockaddr *)&address, size);
    int error = errno;
    close(fd);
    return sent < 0 ? -error : 1;
}

#ifndef TSMFS_CFUSE_SHIM_H
#define TSMFS_CFUSE_SHIM_H

// The only place in tsmfs that chooses the libfuse API version. A system library target takes no
// cSettings, so the version must be a literal here, before the header.
#define FUSE_USE_VERSION 314

#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/mount.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

// Function-like macros do not import into Swift: wrap them.

static inline int cfuse_session_loop_mt(struct fuse_session *se, struct fuse_loop_config *config) {
    return fuse_session_loop_mt(se, config);
}

static inline struct fuse_args cfuse_args_init(void) {
    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    return args;
}

// Bitfields of fuse_file_info, set through plain functions so the Swift side never depends on how
// the importer lays them out.
static inline void cfuse_fi_set_direct_io(struct fuse_file_info *fi, int on) { fi->direct_io = on ? 1 : 0; }
static inline void cfuse_fi_set_keep_cache(struct fuse_file_info *fi, int on) { fi->keep_cache = on ? 1 : 0; }
static inline void cfuse_fi_set_nonseekable(struct fuse_file_info *fi, int on) { fi->nonseekable = on ? 1 : 0; }
// FOPEN_NOFLUSH (Linux 5.16+, ignored before): close(2) sends no FLUSH for this open file.
static inline void cfuse_fi_set_noflush(struct fuse_file_info *fi, int on) { fi->noflush = on ? 1 : 0; }

// 0 when `path` answers statfs(2), else the errno: ENOTCONN marks a FUSE mount whose daemon died.
static inline int cfuse_statfs_errno(const char *path) {
    struct statfs st;
    return statfs(path, &st) == 0 ? 0 : errno;
}

// fusermount3's _FUSE_COMMFD handshake passes the /dev/fuse descriptor as SCM_RIGHTS ancillary
// data with one byte; the CMSG_* macros do not import into Swift.
//
// Receives that descriptor, close-on-exec. Returns it; -1 with errno when recvmsg fails; -2 when
// the peer closed the socket without sending (fusermount3 failed); -3 when a message came without
// exactly one descriptor (any that did come are closed).
static inline int cfuse_receive_fd(int sock) {
    char byte = 0;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    memset(&control, 0, sizeof control);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    ssize_t got;
    do { got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (got < 0 && errno == EINTR);
    if (got < 0) return -1;
    if (got == 0) return -2;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg == NULL || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS
        || cmsg->cmsg_len != CMSG_LEN(sizeof(int))) {
        return -3;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
    if (msg.msg_flags & MSG_CTRUNC) {
        close(fd);
        return -3;
    }
    return fd;
}

// The sending side of the same handshake (what fusermount3 does): one byte with `fd` attached.
// Returns 0, or -1 with errno. tsmfs itself only receives; the tests send.
static inline int cfuse_send_fd(int sock, int fd) {
    char byte = 0;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    memset(&control, 0, sizeof control);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
    ssize_t sent;
    do { sent = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (sent < 0 && errno == EINTR);
    return sent == 1 ? 0 : -1;
}

#endif

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

#endif

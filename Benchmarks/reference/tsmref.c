/*
 * tsmref: a minimal libfuse3 low-level daemon in C that serves one TSM measurement register
 * with the semantics of tsmfs's `tdx/rtmr0/digest`. It exists only as the yardstick for
 * Scripts/bench ("is tsmfs as fast as C?"): the same kernel path, the same libfuse, the same
 * session options and loop configuration, and the least work a C programmer would do per request.
 *
 * Tree (the mount root plays /sys/kernel/tsm, as with tsmfs; same depth as tsmfs's path so the
 * kernel does the same lookups):
 *
 *     tdx/                     0755
 *     tdx/rtmr0/               0755
 *     tdx/rtmr0/digest         0664, 48 bytes: the SHA-384 register
 *     tdx/rtmr0/hash_algo      0444, st_size 4096, reads "sha384" (no newline)
 *
 * What it mirrors (file by file in Sources/):
 *   - FuseKit/FuseSession.swift, tsmfs/MountCommand.swift: options
 *     fsname=tsmref,subtype=tsmref,default_permissions; SIGINT/SIGTERM/SIGHUP reset to SIG_DFL
 *     then fuse_set_signal_handlers, before mounting; fuse_session_loop_mt with clone_fd 0 and
 *     max idle threads 8; unmount, then remove the signal handlers, destroy, exit 0 on a clean
 *     end.
 *   - FuseKit/LowLevelOperations.swift: entry and attr timeout 1.0 s, generation 1, st_blksize
 *     4096, atime = mtime = ctime = mount time, uid = gid = 0, directory nlink 2 + subdirectories.
 *   - TSMTree/TSMFileSystem.swift: open checks the mode for root too (EACCES), replies direct_io
 *     and no keep_cache; setattr refuses mode/owner changes (EPERM) and accepts size and times as
 *     no-ops; open of a directory is EISDIR, opendir of a file ENOTDIR.
 *   - TSMModel/AttributeRules.swift: a read copies [off, off + min(count, size - off, 4096)),
 *     nothing at or past the end; a write at offset < 0 is EINVAL, at offset >= 48 EFBIG, an
 *     empty write 0, else the count is cut to min(count, 4096, 48 - off) and must be the whole
 *     register at offset 0 (EINVAL otherwise) - so a longer write at 0 is a short write of 48.
 *   - TSMModel/MeasurementProvider.swift + HashAlgorithm.swift: the value sits behind one mutex;
 *     an extend is new = SHA-384(old || data).
 *
 * Left out, because the benchmark never reaches them: O_APPEND handle positions, ioctl, the
 * structural ops (mkdir, unlink, ... answer libfuse's default ENOSYS here, EPERM in tsmfs) and the
 * live-register refresh (tsmfs recomputes derived registers on the first read after a write; the
 * benchmark's loops never mix reads and writes).
 *
 * Usage: tsmref [--noflush] [--max-read BYTES] MOUNTPOINT
 *   Foreground; creates a missing MOUNTPOINT; SIGTERM exits 0. The two options are not what tsmfs
 *   does today but what docs/PERFORMANCE.md proposes it do; Scripts/bench runs a second tsmref
 *   with both to show what they buy:
 *   --noflush         sets FOPEN_NOFLUSH in every open reply (fi->noflush, Linux 5.17+), so
 *                     close(2) sends no FLUSH request and does not wait for one;
 *   --max-read BYTES  mounts with max_read=BYTES (and says the same in init, as libfuse insists),
 *                     so one READ asks for at most BYTES and the kernel pins at most that much of
 *                     the reader's buffer for direct I/O (cat reads with a 128 KiB buffer).
 */
#define FUSE_USE_VERSION 314

#include <fuse_lowlevel.h>
#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REGISTER_SIZE 48
#define PAGE_SIZE_LIMIT 4096
#define CACHE_TIMEOUT 1.0

enum { INO_ROOT = 1, INO_TDX, INO_RTMR0, INO_DIGEST, INO_HASH_ALGO, INO_COUNT };

struct node {
    fuse_ino_t parent;
    const char *name;
    int is_dir;
    mode_t perm;
    off_t size;
    int subdirs; /* directories: st_nlink is 2 + this, as sysfs counts it */
};

static const struct node nodes[INO_COUNT] = {
    [INO_ROOT] = {INO_ROOT, "", 1, 0755, 0, 1},
    [INO_TDX] = {INO_ROOT, "tdx", 1, 0755, 0, 1},
    [INO_RTMR0] = {INO_TDX, "rtmr0", 1, 0755, 0, 0},
    [INO_DIGEST] = {INO_RTMR0, "digest", 0, 0664, REGISTER_SIZE, 0},
    [INO_HASH_ALGO] = {INO_RTMR0, "hash_algo", 0, 0444, 4096, 0},
};

static const char hash_algo_text[] = "sha384";

/* The register and its lock (MeasurementProvider's Mutex). */
static unsigned char rtmr0[REGISTER_SIZE];
static pthread_mutex_t rtmr0_lock = PTHREAD_MUTEX_INITIALIZER;
/* Fetched once; the context is reused under the lock, so an extend allocates nothing. */
static EVP_MD *sha384;
static EVP_MD_CTX *sha384_ctx;
static time_t mount_time;
static int no_flush;
static unsigned max_read; /* 0: libfuse's default */

static int valid_ino(fuse_ino_t ino) { return ino >= INO_ROOT && ino < INO_COUNT; }

static void fill_stat(fuse_ino_t ino, struct stat *st) {
    const struct node *n = &nodes[ino];
    memset(st, 0, sizeof(*st));
    st->st_ino = ino;
    st->st_mode = (n->is_dir ? S_IFDIR : S_IFREG) | n->perm;
    st->st_nlink = n->is_dir ? (nlink_t)(2 + n->subdirs) : 1;
    st->st_size = n->size;
    st->st_blksize = 4096;
    st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = mount_time;
}

static void ref_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
    for (fuse_ino_t ino = INO_TDX; ino < INO_COUNT; ino++) {
        if (nodes[ino].parent == parent && strcmp(nodes[ino].name, name) == 0) {
            struct fuse_entry_param e;
            memset(&e, 0, sizeof(e));
            e.ino = ino;
            e.generation = 1;
            e.attr_timeout = CACHE_TIMEOUT;
            e.entry_timeout = CACHE_TIMEOUT;
            fill_stat(ino, &e.attr);
            fuse_reply_entry(req, &e);
            return;
        }
    }
    fuse_reply_err(req, ENOENT);
}

static void ref_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)fi;
    if (!valid_ino(ino)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct stat st;
    fill_stat(ino, &st);
    fuse_reply_attr(req, &st, CACHE_TIMEOUT);
}

static void ref_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                        struct fuse_file_info *fi) {
    (void)attr;
    (void)fi;
    if (!valid_ino(ino)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
        fuse_reply_err(req, EPERM);
        return;
    }
    struct stat st;
    fill_stat(ino, &st);
    fuse_reply_attr(req, &st, CACHE_TIMEOUT);
}

static void ref_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    if (!valid_ino(ino)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    if (nodes[ino].is_dir) {
        fuse_reply_err(req, EISDIR);
        return;
    }
    int access = fi->flags & O_ACCMODE;
    mode_t perm = nodes[ino].perm;
    if ((access != O_WRONLY && !(perm & 0444)) || (access != O_RDONLY && !(perm & 0222))) {
        fuse_reply_err(req, EACCES);
        return;
    }
    fi->fh = 0;
    fi->direct_io = 1;
    fi->keep_cache = 0;
    fi->noflush = no_flush;
    fuse_reply_open(req, fi);
}

static void ref_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi) {
    (void)fi;
    if (ino == INO_HASH_ALGO) {
        off_t len = (off_t)strlen(hash_algo_text);
        if (off < 0 || off >= len || size == 0) {
            fuse_reply_buf(req, NULL, 0);
            return;
        }
        size_t n = (size_t)(len - off) < size ? (size_t)(len - off) : size;
        fuse_reply_buf(req, hash_algo_text + off, n);
        return;
    }
    if (ino != INO_DIGEST) {
        fuse_reply_err(req, nodes[ino].is_dir ? EISDIR : ENOENT);
        return;
    }
    if (size == 0 || off < 0 || off >= REGISTER_SIZE) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    size_t n = (size_t)(REGISTER_SIZE - off);
    if (size < n) n = size;
    if (n > PAGE_SIZE_LIMIT) n = PAGE_SIZE_LIMIT;
    unsigned char out[REGISTER_SIZE];
    pthread_mutex_lock(&rtmr0_lock);
    memcpy(out, rtmr0 + off, n);
    pthread_mutex_unlock(&rtmr0_lock);
    fuse_reply_buf(req, (const char *)out, n);
}

static void ref_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                      struct fuse_file_info *fi) {
    (void)fi;
    if (ino != INO_DIGEST) {
        fuse_reply_err(req, EACCES);
        return;
    }
    if (off < 0) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    if (off >= REGISTER_SIZE) {
        fuse_reply_err(req, EFBIG);
        return;
    }
    size_t accepted = size;
    if (accepted > PAGE_SIZE_LIMIT) accepted = PAGE_SIZE_LIMIT;
    if (accepted > (size_t)(REGISTER_SIZE - off)) accepted = (size_t)(REGISTER_SIZE - off);
    if (accepted == 0) {
        fuse_reply_write(req, 0);
        return;
    }
    if (off != 0 || accepted != REGISTER_SIZE) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    /* The extend: new = SHA-384(old || data), under the register's lock. */
    int ok;
    pthread_mutex_lock(&rtmr0_lock);
    ok = EVP_DigestInit_ex2(sha384_ctx, sha384, NULL) &&
         EVP_DigestUpdate(sha384_ctx, rtmr0, REGISTER_SIZE) &&
         EVP_DigestUpdate(sha384_ctx, buf, REGISTER_SIZE) &&
         EVP_DigestFinal_ex(sha384_ctx, rtmr0, NULL);
    pthread_mutex_unlock(&rtmr0_lock);
    if (!ok) {
        fuse_reply_err(req, EIO);
        return;
    }
    fuse_reply_write(req, accepted);
}

static void ref_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)ino;
    (void)fi;
    fuse_reply_err(req, 0);
}

static void ref_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)ino;
    (void)fi;
    fuse_reply_err(req, 0);
}

static void ref_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    if (!valid_ino(ino)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    if (!nodes[ino].is_dir) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    fi->fh = 0;
    fuse_reply_open(req, fi);
}

/* Entries ".", "..", then the children in inode order; each entry's offset is the next index. */
static void ref_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                        struct fuse_file_info *fi) {
    (void)fi;
    if (!valid_ino(ino) || !nodes[ino].is_dir) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    fuse_ino_t list[2 + INO_COUNT];
    const char *names[2 + INO_COUNT];
    int count = 0;
    list[count] = ino;
    names[count++] = ".";
    list[count] = nodes[ino].parent;
    names[count++] = "..";
    for (fuse_ino_t child = INO_TDX; child < INO_COUNT; child++) {
        if (nodes[child].parent == ino) {
            list[count] = child;
            names[count++] = nodes[child].name;
        }
    }
    char buffer[4096];
    size_t cap = size < sizeof(buffer) ? size : sizeof(buffer);
    size_t used = 0;
    for (int i = off < 0 ? 0 : (int)off; i < count; i++) {
        struct stat st;
        memset(&st, 0, sizeof(st));
        st.st_ino = list[i];
        st.st_mode = nodes[list[i]].is_dir ? S_IFDIR : S_IFREG;
        size_t needed = fuse_add_direntry(req, buffer + used, cap - used, names[i], &st, i + 1);
        if (needed > cap - used) break;
        used += needed;
    }
    fuse_reply_buf(req, buffer, used);
}

static void ref_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)ino;
    (void)fi;
    fuse_reply_err(req, 0);
}

static void ref_statfs(fuse_req_t req, fuse_ino_t ino) {
    (void)ino;
    struct statvfs sv;
    memset(&sv, 0, sizeof(sv));
    sv.f_bsize = sv.f_frsize = 4096;
    sv.f_namemax = 255;
    sv.f_files = INO_COUNT - 1;
    fuse_reply_statfs(req, &sv);
}

static void ref_init(void *userdata, struct fuse_conn_info *conn) {
    (void)userdata;
    conn->max_read = max_read; /* must equal the max_read mount option, or libfuse aborts */
}

static const struct fuse_lowlevel_ops ops = {
    .init = ref_init,
    .lookup = ref_lookup,
    .getattr = ref_getattr,
    .setattr = ref_setattr,
    .open = ref_open,
    .read = ref_read,
    .write = ref_write,
    .flush = ref_flush,
    .release = ref_release,
    .opendir = ref_opendir,
    .readdir = ref_readdir,
    .releasedir = ref_releasedir,
    .statfs = ref_statfs,
};

int main(int argc, char *argv[]) {
    int arg = 1;
    for (; arg < argc - 1; arg++) {
        if (strcmp(argv[arg], "--noflush") == 0) {
            no_flush = 1;
        } else if (strcmp(argv[arg], "--max-read") == 0 && arg + 2 < argc) {
            max_read = (unsigned)strtoul(argv[++arg], NULL, 10);
            if (max_read < 4096) max_read = 4096; /* the kernel's floor */
        } else {
            break;
        }
    }
    if (arg != argc - 1) {
        fprintf(stderr, "usage: %s [--noflush] [--max-read BYTES] MOUNTPOINT\n", argv[0]);
        return 2;
    }
    const char *mountpoint = argv[arg];
    if (mkdir(mountpoint, 0755) != 0 && errno != EEXIST) {
        perror(mountpoint);
        return 1;
    }
    sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
    sha384_ctx = EVP_MD_CTX_new();
    if (sha384 == NULL || sha384_ctx == NULL) {
        fprintf(stderr, "tsmref: OpenSSL has no SHA-384\n");
        return 1;
    }
    mount_time = time(NULL);

    char options[128] = "fsname=tsmref,subtype=tsmref,default_permissions";
    if (max_read) snprintf(options + strlen(options), sizeof(options) - strlen(options), ",max_read=%u", max_read);
    char *fuse_argv[] = {argv[0], "-o", options, NULL};
    struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
    struct fuse_session *se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
    if (se == NULL) return 1;
    /* A shell starts background jobs with SIGINT ignored; libfuse only takes default signals. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    int own_signals = fuse_set_signal_handlers(se) == 0;
    if (fuse_session_mount(se, mountpoint) != 0) {
        if (own_signals) fuse_remove_signal_handlers(se);
        fuse_session_destroy(se);
        return 1;
    }

    int status = -ENOMEM;
    struct fuse_loop_config *config = fuse_loop_cfg_create();
    if (config != NULL) {
        fuse_loop_cfg_set_clone_fd(config, 0);
        fuse_loop_cfg_set_idle_threads(config, 8);
        status = fuse_session_loop_mt(se, config);
        fuse_loop_cfg_destroy(config);
    }

    /* Unmount before giving the signals back, as tsmfs does: a second SIGTERM during shutdown
     * must not kill the process with the mount still up. */
    fuse_session_unmount(se);
    if (own_signals) fuse_remove_signal_handlers(se);
    fuse_session_destroy(se);
    EVP_MD_CTX_free(sha384_ctx);
    EVP_MD_free(sha384);
    /* Like tsmfs: a negative status is a failure; a signal number (SIGTERM) is a clean end. */
    return status < 0 ? 1 : 0;
}

/*
 * loop: the measuring client of Scripts/bench. Each mode times one thing with CLOCK_MONOTONIC and
 * prints one line on stdout whose first field is the figure in nanoseconds; anything unexpected
 * (a short read, a failed write, a child that exits non-zero) is an error: exit 1 with a message.
 *
 *   loop read  PATH [N [MAX_S]]   open(O_RDONLY) + read(48) + close, N times
 *   loop write PATH [N [MAX_S]]   open(O_WRONLY) + write(48) + close, N times (against a
 *                                 register: one extend each, always of the bytes 0, 1, ..., 47)
 *   loop pread PATH [N [MAX_S]]   one open, then pread(48, offset 0) N times
 *   loop quote ENTRY [N [MAX_S]]  one configfs-tsm report per iteration from the report entry
 *                                 directory ENTRY: open+write(64)+close of ENTRY/inblob (a new
 *                                 nonce each time), then open+read to EOF+close of ENTRY/outblob,
 *                                 which must not be empty
 *   loop snpreport DEVICE [N [MAX_S]]  the same report through /dev/sev-guest: open + one
 *                                 SNP_GET_REPORT (a new user data each time) + close; the
 *                                 response's status must be 0 and its REPORT_DATA the user data
 *       Prints "NS ns/op DONE iterations (...)". N defaults to 100000; a warm-up of N/10
 *       iterations (at most 1000) runs first, untimed. With MAX_S the timed part stops after
 *       MAX_S seconds, and DONE says how many iterations ran. A read must return 48 bytes, or the
 *       file's whole size when that is smaller (a sysfs text file).
 *
 *   loop exec N [--in FILE] [--out FILE] -- CMD [ARG...]
 *       Runs CMD N times one after another (posix_spawnp, stdin from FILE or /dev/null, stdout
 *       to FILE, opened in the child each run with O_WRONLY, or /dev/null) and prints the median
 *       wall time of one run, then the mean. CMD must exit 0 each time.
 *
 *   loop startup MOUNTPOINT [--cpu C] -- CMD [ARG...]
 *       Forks, pins the child to CPU C if given, execs CMD (a daemon that mounts on MOUNTPOINT)
 *       and polls stat(MOUNTPOINT) and stat(MOUNTPOINT/..) in a tight loop until their st_dev
 *       differ: exec-to-mounted. It then reads the child's VmHWM, sends SIGTERM and waits for the
 *       child: SIGTERM-to-exit. Prints "READY_NS SHUTDOWN_NS HWM_KB"; fails if the child dies
 *       early, does not mount within 10 s, exits non-zero, or leaves the mount behind.
 *
 * Build: cc -O2 -Wall -Wextra -o loop loop.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/sev-guest.h>

extern char **environ;

#define REGISTER_SIZE 48

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, const char *path) {
    fprintf(stderr, "loop: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

static void usage(void) {
    fprintf(stderr,
            "usage: loop read|write|pread PATH [N [MAX_SECONDS]]\n"
            "       loop quote ENTRY [N [MAX_SECONDS]]\n"
            "       loop snpreport DEVICE [N [MAX_SECONDS]]\n"
            "       loop exec N [--in FILE] [--out FILE] -- CMD [ARG...]\n"
            "       loop startup MOUNTPOINT [--cpu C] -- CMD [ARG...]\n");
    exit(2);
}

/* The bytes a read must return: 48, or less for a file that is smaller (sysfs text files). */
static ssize_t expected_read(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("open", path);
    char buf[REGISTER_SIZE];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) die("first read of", path);
    close(fd);
    return n;
}

static void one_read(const char *path, ssize_t expect) {
    char buf[REGISTER_SIZE];
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("open", path);
    if (read(fd, buf, sizeof(buf)) != expect) die("short read of", path);
    close(fd);
}

/* One report: a fresh 64-byte inblob (the iteration number in its first bytes), then the whole
 * outblob, which the provider generates for that inblob. */
static void one_quote(const char *inblob, const char *outblob, long iteration) {
    static unsigned char buf[1 << 16];
    unsigned char nonce[64] = {0};
    memcpy(nonce, &iteration, sizeof(iteration));
    int fd = open(inblob, O_WRONLY);
    if (fd < 0) die("open", inblob);
    if (write(fd, nonce, sizeof(nonce)) != (ssize_t)sizeof(nonce)) die("write", inblob);
    if (close(fd) != 0) die("close", inblob);
    fd = open(outblob, O_RDONLY);
    if (fd < 0) die("open", outblob);
    ssize_t n, total = 0;
    while ((n = read(fd, buf, sizeof(buf))) > 0) total += n;
    if (n < 0) die("read", outblob);
    if (total == 0) {
        errno = ENODATA;
        die("empty report from", outblob);
    }
    close(fd);
}

/* One SEV-SNP report through the guest device, as device-era clients ask for it: open, one
 * SNP_GET_REPORT of a fresh user data (the iteration number in its first bytes), close. */
static void one_snp_report(const char *device, long iteration) {
    struct snp_report_req req = {0};
    struct snp_report_resp resp = {0};
    memcpy(req.user_data, &iteration, sizeof(iteration));
    struct snp_guest_request_ioctl io = {
        .msg_version = 1, .req_data = (uint64_t)(uintptr_t)&req, .resp_data = (uint64_t)(uintptr_t)&resp};
    int fd = open(device, O_RDWR);
    if (fd < 0) die("open", device);
    if (ioctl(fd, SNP_GET_REPORT, &io) != 0) die("SNP_GET_REPORT", device);
    close(fd);
    /* MSG_REPORT_RSP: status, report size, 24 reserved bytes, the report (REPORT_DATA at 0x50). */
    uint32_t status;
    memcpy(&status, resp.data, sizeof(status));
    if (status != 0 || memcmp(resp.data + 32 + 0x50, req.user_data, sizeof(req.user_data)) != 0) {
        errno = EBADMSG;
        die("a wrong report from", device);
    }
}

static void one_write(const char *path, const unsigned char *data) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) die("open", path);
    if (write(fd, data, REGISTER_SIZE) != REGISTER_SIZE) die("write", path);
    if (close(fd) != 0) die("close", path);
}

/* Runs `body` up to n times, checking the clock every 256 iterations when max_ns is set. */
#define TIMED(n, max_ns, done, body)                                                         \
    do {                                                                                     \
        uint64_t limit_ = (max_ns) ? now_ns() + (max_ns) : 0;                                \
        for (done = 0; done < (n); done++) {                                                 \
            if (limit_ && (done & 255) == 0 && now_ns() > limit_) break;                     \
            body;                                                                            \
        }                                                                                    \
    } while (0)

static int run_loop(const char *mode, const char *path, long n, uint64_t max_ns) {
    long warmup = n / 10 < 1000 ? n / 10 : 1000, done;
    unsigned char data[REGISTER_SIZE];
    for (int i = 0; i < REGISTER_SIZE; i++) data[i] = (unsigned char)i;
    uint64_t start, end;
    if (strcmp(mode, "read") == 0) {
        ssize_t expect = expected_read(path);
        for (long i = 0; i < warmup; i++) one_read(path, expect);
        start = now_ns();
        TIMED(n, max_ns, done, one_read(path, expect));
        end = now_ns();
    } else if (strcmp(mode, "write") == 0) {
        for (long i = 0; i < warmup; i++) one_write(path, data);
        start = now_ns();
        TIMED(n, max_ns, done, one_write(path, data));
        end = now_ns();
    } else if (strcmp(mode, "pread") == 0) {
        ssize_t expect = expected_read(path);
        char buf[REGISTER_SIZE];
        int fd = open(path, O_RDONLY);
        if (fd < 0) die("open", path);
        for (long i = 0; i < warmup; i++)
            if (pread(fd, buf, sizeof(buf), 0) != expect) die("short pread of", path);
        start = now_ns();
        TIMED(n, max_ns, done, if (pread(fd, buf, sizeof(buf), 0) != expect) die("short pread of", path));
        end = now_ns();
        close(fd);
    } else if (strcmp(mode, "quote") == 0) {
        char inblob[4096], outblob[4096];
        if (snprintf(inblob, sizeof(inblob), "%s/inblob", path) >= (int)sizeof(inblob) ||
            snprintf(outblob, sizeof(outblob), "%s/outblob", path) >= (int)sizeof(outblob)) {
            errno = ENAMETOOLONG;
            die("entry", path);
        }
        for (long i = 0; i < warmup; i++) one_quote(inblob, outblob, -1 - i);
        start = now_ns();
        TIMED(n, max_ns, done, one_quote(inblob, outblob, done));
        end = now_ns();
    } else if (strcmp(mode, "snpreport") == 0) {
        for (long i = 0; i < warmup; i++) one_snp_report(path, -1 - i);
        start = now_ns();
        TIMED(n, max_ns, done, one_snp_report(path, done));
        end = now_ns();
    } else {
        usage();
        return 2;
    }
    if (done == 0) done = 1;
    printf("%.1f ns/op %ld iterations (%s %s, %ld warm-up)\n", (double)(end - start) / (double)done,
           done, mode, path, warmup);
    return 0;
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int run_exec(long n, const char *in, const char *out, char **cmd) {
    uint64_t *times = calloc((size_t)n, sizeof(*times));
    if (times == NULL) die("calloc", "");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, in ? in : "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out ? out : "/dev/null", O_WRONLY, 0);
    uint64_t total = 0;
    for (long i = 0; i < n; i++) {
        pid_t pid;
        int status;
        uint64_t start = now_ns();
        int err = posix_spawnp(&pid, cmd[0], &actions, NULL, cmd, environ);
        if (err != 0) {
            errno = err;
            die("spawn", cmd[0]);
        }
        while (waitpid(pid, &status, 0) < 0)
            if (errno != EINTR) die("waitpid", cmd[0]);
        times[i] = now_ns() - start;
        total += times[i];
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "loop: %s failed (status %d) on run %ld\n", cmd[0], status, i + 1);
            return 1;
        }
    }
    posix_spawn_file_actions_destroy(&actions);
    qsort(times, (size_t)n, sizeof(*times), compare_u64);
    double median = n % 2 ? (double)times[n / 2] : ((double)times[n / 2 - 1] + (double)times[n / 2]) / 2;
    printf("%.0f ns/run median, %.0f mean (%s, %ld runs)\n", median, (double)total / (double)n, cmd[0], n);
    free(times);
    return 0;
}

/* True when `path` is the root of a mount: its st_dev differs from its parent's. */
static int is_mounted(const char *path, const char *parent) {
    struct stat a, b;
    if (stat(path, &a) != 0 || stat(parent, &b) != 0) return 0;
    return a.st_dev != b.st_dev;
}

static long vm_hwm_kb(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    long kb = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

static int run_startup(const char *mountpoint, int cpu, char **cmd) {
    char parent[4096];
    if (snprintf(parent, sizeof(parent), "%s/..", mountpoint) >= (int)sizeof(parent)) usage();
    if (is_mounted(mountpoint, parent)) {
        fprintf(stderr, "loop: %s is already a mount point\n", mountpoint);
        return 1;
    }
    uint64_t start = now_ns();
    pid_t pid = fork();
    if (pid < 0) die("fork", cmd[0]);
    if (pid == 0) {
        if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            sched_setaffinity(0, sizeof(set), &set);
        }
        execvp(cmd[0], cmd);
        _exit(127);
    }
    uint64_t deadline = start + 10000000000u, ready = 0;
    int status;
    for (;;) {
        if (is_mounted(mountpoint, parent)) {
            ready = now_ns();
            break;
        }
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "loop: %s exited (status %d) before mounting\n", cmd[0], status);
            return 1;
        }
        if (now_ns() > deadline) {
            fprintf(stderr, "loop: %s did not mount %s within 10 s\n", cmd[0], mountpoint);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return 1;
        }
    }
    long hwm = vm_hwm_kb(pid);
    uint64_t term = now_ns();
    kill(pid, SIGTERM);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) die("waitpid", cmd[0]);
    uint64_t gone = now_ns();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "loop: %s ended with status %d after SIGTERM\n", cmd[0], status);
        return 1;
    }
    if (is_mounted(mountpoint, parent)) {
        fprintf(stderr, "loop: %s left %s mounted\n", cmd[0], mountpoint);
        return 1;
    }
    printf("%llu %llu %ld\n", (unsigned long long)(ready - start), (unsigned long long)(gone - term), hwm);
    return 0;
}

int main(int argc, char *argv[]) {
    if (argc < 3) usage();
    const char *mode = argv[1];
    if (strcmp(mode, "exec") == 0 || strcmp(mode, "startup") == 0) {
        const char *in = NULL, *out = NULL;
        int cpu = -1, i = 3;
        for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
            if (i + 1 >= argc) usage();
            if (strcmp(argv[i], "--in") == 0) in = argv[i + 1];
            else if (strcmp(argv[i], "--out") == 0) out = argv[i + 1];
            else if (strcmp(argv[i], "--cpu") == 0) cpu = atoi(argv[i + 1]);
            else usage();
        }
        if (i + 1 >= argc) usage();
        char **cmd = &argv[i + 1];
        if (mode[0] == 'e') {
            long n = atol(argv[2]);
            if (n <= 0) usage();
            return run_exec(n, in, out, cmd);
        }
        return run_startup(argv[2], cpu, cmd);
    }
    long n = argc > 3 ? atol(argv[3]) : 100000;
    double max_s = argc > 4 ? atof(argv[4]) : 0;
    if (n <= 0 || max_s < 0 || argc > 5) usage();
    return run_loop(mode, argv[2], n, (uint64_t)(max_s * 1e9));
}

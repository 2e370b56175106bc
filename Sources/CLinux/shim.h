// Linux calls Swift cannot make itself: variadic C functions, and calls glibc declares only
// under _GNU_SOURCE, which the Glibc module is not built with.
#ifndef TSMFS_CLINUX_SHIM_H
#define TSMFS_CLINUX_SHIM_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/// prctl(PR_SET_PDEATHSIG, signal): `signal` is sent to this process when the thread that
/// created it exits. Returns 0, or -1 with errno.
static inline int clinux_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}

/// process_vm_readv(2): copies `remote` in process `pid` into `local`. Returns the bytes copied,
/// or -1 with errno (ESRCH, EPERM, EFAULT).
static inline long clinux_process_vm_readv(pid_t pid, const struct iovec *local, unsigned long local_count,
                                           const struct iovec *remote, unsigned long remote_count) {
    return syscall(SYS_process_vm_readv, pid, local, local_count, remote, remote_count, 0UL);
}

/// process_vm_writev(2): copies `local` into `remote` in process `pid`. Returns the bytes
/// copied, or -1 with errno.
static inline long clinux_process_vm_writev(pid_t pid, const struct iovec *local, unsigned long local_count,
                                            const struct iovec *remote, unsigned long remote_count) {
    return syscall(SYS_process_vm_writev, pid, local, local_count, remote, remote_count, 0UL);
}

/// Starts `file` (looked up on PATH) with `argv` and this process's environment in a child whose signal mask is
/// empty, whose dispositions are the defaults, and that receives `signal` when the calling
/// thread exits (PR_SET_PDEATHSIG), as `unshare --kill-child` does for its child. posix_spawn
/// cannot set the parent-death signal, so this forks; between fork and exec the child calls
/// only async-signal-safe functions. Returns 0 and sets `*pid`, or the errno of fork or exec
/// (the child then reaped).
/// The `keep_count` descriptors in `keep` (opened close-on-exec, so no other child inherits them)
/// lose FD_CLOEXEC in the child only: the program inherits exactly those. An `output` of 0 or more
/// becomes the program's stdout and stderr (-1: both inherited).
/// With `reap` non-zero the child is a reaper in between (PR_SET_CHILD_SUBREAPER): it runs the
/// program as its own child, which dies with it, reaps every descendant the program leaves behind
/// (swtpm_setup leaves its swtpm unreaped), and exits with the program's status (128 + the
/// signal for a killed program); `*pid` is the reaper's.
static inline int clinux_spawn_reaping(const char *file, char *const argv[], int signal, const int *keep,
                                       int keep_count, int output, int reap, pid_t *pid) {
    int report[2];
    if (pipe(report) != 0) return errno;
    fcntl(report[0], F_SETFD, FD_CLOEXEC);
    fcntl(report[1], F_SETFD, FD_CLOEXEC);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        int error = errno;
        close(report[0]);
        close(report[1]);
        return error;
    }
    if (child == 0) {
        sigset_t empty;
        sigemptyset(&empty);
        for (int sig = 1; sig < NSIG; sig++) {
            struct sigaction action = {0};
            action.sa_handler = SIG_DFL;
            sigaction(sig, &action, NULL);
        }
        sigprocmask(SIG_SETMASK, &empty, NULL);
        if (prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL) != 0 || getppid() != parent) {
            _exit(127);
        }
        if (reap) {
            pid_t reaper = getpid();
            pid_t program = prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL) == 0 ? fork() : -1;
            if (program < 0) {
                int error = errno;
                ssize_t written = write(report[1], &error, sizeof error);
                (void)written;
                _exit(127);
            }
            if (program > 0) {
                close(report[1]);
                int status = 0, program_status = 0;
                for (;;) {
                    pid_t ended = waitpid(-1, &status, 0);
                    if (ended < 0) {
                        if (errno == EINTR) continue;
                        break;
                    }
                    if (ended == program) program_status = status;
                }
                _exit(WIFEXITED(program_status) ? WEXITSTATUS(program_status) : 128 + WTERMSIG(program_status));
            }
            if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL) != 0 || getppid() != reaper) {
                _exit(127);
            }
        }
        for (int i = 0; i < keep_count; i++) {
            if (fcntl(keep[i], F_SETFD, 0) != 0) _exit(127);
        }
        if (output >= 0 && (dup2(output, 1) < 0 || dup2(output, 2) < 0)) _exit(127);
        execvp(file, argv);
        int error = errno;
        ssize_t written = write(report[1], &error, sizeof error);
        (void)written;
        _exit(127);
    }
    close(report[1]);
    int error = 0;
    ssize_t count;
    do {
        count = read(report[0], &error, sizeof error);
    } while (count < 0 && errno == EINTR);
    close(report[0]);
    if (count == (ssize_t)sizeof error) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        return error;
    }
    *pid = child;
    return 0;
}

/// clinux_spawn_reaping without a reaper.
static inline int clinux_spawn_dying_with_parent_keeping(const char *file, char *const argv[], int signal,
                                                        const int *keep, int keep_count, int output, pid_t *pid) {
    return clinux_spawn_reaping(file, argv, signal, keep, keep_count, output, 0, pid);
}

/// clinux_spawn_dying_with_parent_keeping with no descriptor kept.
static inline int clinux_spawn_dying_with_parent(const char *file, char *const argv[], int signal, pid_t *pid) {
    return clinux_spawn_dying_with_parent_keeping(file, argv, signal, NULL, 0, -1, pid);
}

/// pidfd_open(2): a descriptor that polls readable when process `pid` (a child of ours, not yet
/// reaped) ends. Returns the descriptor (close-on-exec), or -1 with errno.
static inline int clinux_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0U);
}

#endif
